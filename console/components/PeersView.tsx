/** Peers: who this daemon syncs with, since when, how far behind (changes of ours not yet sent), and how much has flowed. */
import { peers, status } from "../store.ts";
import { clock } from "../format.ts";

export function PeersView() {
  return (
    <section class="pane">
      <h1>Peers</h1>
      <p class="muted">
        This peer: <code>{status.value?.peerId}</code> {status.value?.addresses.length ? `listening on ${status.value.addresses.join(", ")}` : "(networking off)"}
      </p>
      {peers.value.length === 0 ? <p class="muted">No peer connected.</p> : null}
      <table class="history">
        <thead>
          <tr>
            <th>Peer</th>
            <th>Address</th>
            <th>Direction</th>
            <th>Connected since</th>
            <th>Sync lag</th>
            <th>Sync in / out</th>
          </tr>
        </thead>
        <tbody>
          {peers.value.map((p) => (
            <tr key={p.peerId}>
              <td>
                <code>{p.peerId.slice(-12)}</code>
              </td>
              <td>{p.remoteAddr}</td>
              <td>{p.direction}</td>
              <td>{clock(p.since)}</td>
              <td class={p.behindMs > 5000 ? "warn" : ""}>
                {p.behindMs === 0 ? "in sync" : `behind ${(p.behindMs / 1000).toFixed(1)} s`}
                {p.lastSyncAt !== null ? ` · last ${clock(p.lastSyncAt)}` : ""}
              </td>
              <td>
                {p.syncBytesIn} B / {p.syncBytesOut} B
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
