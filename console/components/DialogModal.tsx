/**
 * A script's `ui.dialog.confirm/prompt/select` (and on_error prompts) as a
 * modal. Every open console shows it; the first answer wins and the
 * daemon's dialog.closed event closes it everywhere else.
 */
import { useState } from "preact/hooks";
import type { DialogEvent, FieldValue } from "../../protocol/light.ts";
import { call, dialogs } from "../store.ts";

export function DialogModal() {
  const d = dialogs.value[0];
  if (!d) return null;
  return <DialogCard key={d.id} dialog={d} />;
}

function DialogCard({ dialog }: { dialog: DialogEvent }) {
  const [text, setText] = useState(dialog.kind === "prompt" ? (dialog.default ?? "") : "");
  const [choice, setChoice] = useState(dialog.kind === "select" ? (dialog.options[0] ?? "") : "");
  const answer = (a: FieldValue): void => {
    void call("dialog.respond", { id: dialog.id, answer: a }).catch(() => undefined);
  };
  return (
    <div class="modal-backdrop">
      <form
        class="modal dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="dialog-message"
        onSubmit={(e) => {
          e.preventDefault();
          if (dialog.kind === "prompt") answer(text);
          else if (dialog.kind === "select") answer(choice);
          else if (dialog.kind === "confirm") answer(true);
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape") answer(dialog.kind === "confirm" ? false : null);
        }}
      >
        <div class="muted">{dialog.script} asks</div>
        <h2 id="dialog-message">{dialog.message}</h2>
        {dialog.kind === "error" ? <pre class="error-text">{`${dialog.error.type}: ${dialog.error.message}`}</pre> : null}
        {dialog.kind === "prompt" ? <input autoFocus aria-label="Answer" value={text} onInput={(e) => setText(e.currentTarget.value)} /> : null}
        {dialog.kind === "select" ? (
          <div class="choices" role="radiogroup" aria-label="Choices">
            {dialog.options.map((o, i) => (
              <label key={o} class="choice">
                <input type="radio" name="choice" autoFocus={i === 0} checked={choice === o} onChange={() => setChoice(o)} />
                {o}
              </label>
            ))}
          </div>
        ) : null}
        <div class="actions">
          {dialog.kind === "confirm" ? (
            <>
              <button type="button" onClick={() => answer(false)}>
                No
              </button>
              <button type="submit" class="primary" autoFocus>
                Yes
              </button>
            </>
          ) : dialog.kind === "error" ? (
            dialog.options.map((o) => (
              <button key={o} type="button" class={o === "abort" ? "danger" : ""} onClick={() => answer(o)}>
                {o === "skip" ? "Skip and go on" : "Abort the run"}
              </button>
            ))
          ) : (
            <>
              <button type="button" onClick={() => answer(null)}>
                Cancel
              </button>
              <button type="submit" class="primary">
                OK
              </button>
            </>
          )}
        </div>
        <div class="muted small">Any open console may answer; the first answer wins.</div>
      </form>
    </div>
  );
}
