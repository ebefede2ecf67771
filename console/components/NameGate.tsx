/** Asks the person's name once (kept in this browser): their edits carry actor `console:<name>`. */
import { useState } from "preact/hooks";

export function NameGate({ onName }: { onName: (name: string) => void }) {
  const [name, setName] = useState("");
  return (
    <div class="modal-backdrop">
      <form
        class="modal"
        aria-label="Who is at this console?"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) onName(name.trim());
        }}
      >
        <h2>Who is at this console?</h2>
        <p class="muted">Your name goes with your edits and decisions in the show's history.</p>
        <label>
          Name
          <input autoFocus name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={!name.trim()}>
            Open the console
          </button>
        </div>
      </form>
    </div>
  );
}
