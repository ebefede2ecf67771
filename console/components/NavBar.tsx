/** The views, with counts of what waits for a person (dialogs, sessions, conflicts). */
import { conflicts, connection, dialogs, sessions, status } from "../store.ts";
import { route } from "../route.ts";
import type { ViewName } from "../route.ts";

const ITEMS: { view: ViewName; label: string; key: string }[] = [
  { view: "scripts", label: "Scripts", key: "1" },
  { view: "sessions", label: "Sessions", key: "2" },
  { view: "conflicts", label: "Conflicts", key: "3" },
  { view: "tables", label: "Workspace", key: "4" },
  { view: "cues", label: "Cue lists", key: "5" },
  { view: "triggers", label: "Triggers", key: "6" },
  { view: "background", label: "Background", key: "7" },
  { view: "peers", label: "Peers", key: "8" },
  { view: "log", label: "Log", key: "9" },
];

const PARENT: Record<string, ViewName> = { table: "tables", entity: "tables", session: "sessions", cuelist: "cues" };

export function NavBar({ name }: { name: string }) {
  const current = PARENT[route.value.view] ?? route.value.view;
  const badge: Partial<Record<ViewName, number>> = {
    sessions: sessions.value.length,
    conflicts: conflicts.value.conflicts.length,
    scripts: dialogs.value.length,
  };
  return (
    <nav class="navbar" aria-label="Views">
      <div class="brand">
        <strong>{status.value?.workspace.name ?? "openprod"}</strong>
        <span class={`conn conn-${connection.value}`} role="status">
          {connection.value === "open" ? "live" : connection.value}
        </span>
      </div>
      <ul>
        {ITEMS.map((i) => (
          <li key={i.view}>
            <a href={`#/${i.view}`} aria-current={current === i.view ? "page" : undefined} accessKey={i.key} title={`Alt+${i.key}`}>
              {i.label}
              {badge[i.view] ? <span class="badge">{badge[i.view]}</span> : null}
            </a>
          </li>
        ))}
      </ul>
      <div class="who">console:{name}</div>
    </nav>
  );
}
