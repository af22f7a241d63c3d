import { BatonError } from '@baton/core';
import { HealthCheckResponse_ServingStatus as ServingStatus } from './gen/grpc/health/v1/health_pb.js';
import type { Health } from './gen/grpc/health/v1/health_pb.js';
import type { CallContext, ServiceImpl } from './handler-types.js';

type Listener = (status: ServingStatus) => void;

/**
 * Serving status per service name ("" is the whole server) and the `grpc.health.v1.Health`
 * implementation over it: Check, List, and Watch (current status first, then every change).
 */
export class HealthState {
  private readonly statuses = new Map<string, ServingStatus>([['', ServingStatus.SERVING]]);
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly closers = new Set<() => void>();

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const l of this.listeners.get(service) ?? []) l(status);
  }

  has(service: string): boolean {
    return this.statuses.has(service);
  }

  /** Mark everything NOT_SERVING and end every Watch stream (so shutdown can complete). */
  close(): void {
    for (const name of this.statuses.keys()) this.set(name, ServingStatus.NOT_SERVING);
    for (const c of [...this.closers]) c();
  }

  private async *watch(service: string, ctx: CallContext): AsyncGenerator<{ status: ServingStatus }> {
    const queue: ServingStatus[] = [this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN];
    let wake: (() => void) | undefined;
    let closed = false;
    const listener: Listener = (s) => {
      queue.push(s);
      wake?.();
    };
    const close = (): void => {
      closed = true;
      wake?.();
    };
    let set = this.listeners.get(service);
    if (!set) this.listeners.set(service, (set = new Set()));
    set.add(listener);
    this.closers.add(close);
    ctx.signal.addEventListener('abort', close, { once: true });
    try {
      let last: ServingStatus | undefined;
      for (;;) {
        while (queue.length > 0) {
          const s = queue.shift()!;
          // Only changes are sent after the first answer.
          if (s !== last) {
            last = s;
            yield { status: s };
          }
        }
        if (closed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(service);
      this.closers.delete(close);
      ctx.signal.removeEventListener('abort', close);
    }
  }

  /** The Health service implementation. */
  impl(): ServiceImpl<typeof Health> {
    return {
      check: async (req) => {
        const status = this.statuses.get(req.service);
        if (status === undefined) throw new BatonError('ERR_NOT_FOUND', 'health check for an unknown service');
        return { status };
      },
      list: async () => {
        const statuses: Record<string, { status: ServingStatus }> = {};
        for (const [name, status] of this.statuses) statuses[name] = { status };
        return { statuses };
      },
      watch: (req, ctx) => this.watch(req.service, ctx),
    };
  }
}

export { ServingStatus };
