/** The console: the name gate, the navigation, the current view, and what overlays every view (dialogs, toasts). */
import { useState } from "preact/hooks";
import { NAME_KEY, dialogs, start } from "../store.ts";
import { route } from "../route.ts";
import { NameGate } from "./NameGate.tsx";
import { NavBar } from "./NavBar.tsx";
import { Toasts } from "./Toasts.tsx";
import { DialogModal } from "./DialogModal.tsx";
import { ScriptsView } from "./ScriptsView.tsx";
import { SessionsView } from "./SessionsView.tsx";
import { ConflictsView } from "./ConflictsView.tsx";
import { TableGrid, TablesView } from "./TableView.tsx";
import { EntityPage } from "./EntityPage.tsx";
import { CueList, CueListsView } from "./CueListView.tsx";
import { TriggersView } from "./TriggersView.tsx";
import { BackgroundView } from "./BackgroundView.tsx";
import { PeersView } from "./PeersView.tsx";
import { LogView } from "./LogView.tsx";

function CurrentView() {
  switch (route.value.view) {
    case "scripts":
      return <ScriptsView />;
    case "sessions":
    case "session":
      return <SessionsView />;
    case "conflicts":
      return <ConflictsView />;
    case "tables":
      return <TablesView />;
    case "table":
      return <TableGrid key={route.value.arg} />;
    case "entity":
      return <EntityPage key={route.value.arg} />;
    case "cues":
      return <CueListsView />;
    case "cuelist":
      return <CueList key={route.value.arg} />;
    case "triggers":
      return <TriggersView />;
    case "background":
      return <BackgroundView />;
    case "peers":
      return <PeersView />;
    case "log":
      return <LogView />;
  }
}

export function App() {
  const [name, setName] = useState<string | null>(() => localStorage.getItem(NAME_KEY));
  if (name === null) {
    return (
      <NameGate
        onName={(n) => {
          localStorage.setItem(NAME_KEY, n);
          setName(n);
        }}
      />
    );
  }
  start(name);
  // While a script waits for an answer, the rest of the page is inert: Tab stays in the dialog.
  const asking = dialogs.value.length > 0;
  return (
    <div class="layout">
      <div inert={asking} class="nav-wrap">
        <NavBar name={name} />
      </div>
      <main id="main" inert={asking}>
        <CurrentView />
      </main>
      <DialogModal />
      <Toasts />
    </div>
  );
}
