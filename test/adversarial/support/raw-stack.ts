/**
 * The setup the raw-bytes suites share: one stack, raw clients to its servers, and the
 * store state and audit size before any attack, so a suite can end by proving nothing
 * changed and every server still serves.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { Health } from '@baton/proto/grpc/health/v1/health_pb.js';
import { outcomeOf } from './outcome.js';
import type * as grpc from '@grpc/grpc-js';
import { methodsOf, rawCall, rawClients } from './raw-call.js';
import { serversOf } from './services.js';
import { startStack, type Stack, type StoreState } from './stack.js';

/** What {@link useRawStack} gives a suite. */
export interface RawStack {
  /** The running stack (valid inside tests). */
  readonly stack: () => Stack;
  /** A raw client to `address`, reused across calls. */
  readonly client: (address: string) => grpc.Client;
  /** Asserts nothing was written, every server answers a health check, and a legitimate call still succeeds. */
  readonly expectUnchangedAndServing: () => Promise<void>;
}

/** Starts a stack for the suite (beforeAll) and stops it afterwards (afterAll). */
export function useRawStack(): RawStack {
  let s: Stack;
  let before: StoreState;
  let auditSize: number;
  const clients = rawClients();
  beforeAll(async () => {
    s = await startStack();
    before = await s.state();
    auditSize = await s.audit.size();
  });
  afterAll(async () => {
    clients.close();
    await s?.close();
  });
  return {
    stack: () => s,
    client: (address) => clients.get(address),
    async expectUnchangedAndServing() {
      expect(await s.state()).toEqual(before);
      expect(await s.audit.size()).toBe(auditSize);
      const [check] = methodsOf(Health);
      for (const address of serversOf(s)) {
        expect(await rawCall(clients.get(address), check!.path, 'unary', Buffer.alloc(0))).toMatchObject({ status: 0 });
      }
      expect(await outcomeOf(s.approve(await s.agent()))).toBe('OK');
    },
  };
}
