/** `invite.create`, added to `Methods` by declaration merging; on the owner-only socket only, never the web console. */
declare module "./methods.ts" {
  interface Methods {
    /**
     * A one-time invite for a new machine: a code valid for 10 minutes and one join, and the join
     * addresses of this peer (with /p2p/<id>). `command` is what to run on the new machine.
     */
    "invite.create": {
      params: { dir?: string };
      result: { code: string; expiresAt: number; addresses: string[]; command: string; peerId: string; workspace: { id: string; name: string } };
    };
  }
}

export {};
