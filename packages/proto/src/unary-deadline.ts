import * as grpc from '@grpc/grpc-js';

/** Largest delay Node timers honour; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function deadlineMs(deadline: grpc.Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * A grpc-js server interceptor that bounds unary calls whose client set no deadline:
 * after `maxMs` the call ends with DEADLINE_EXCEEDED, exactly as if the client had asked
 * for that deadline (the handler's signal aborts). It also covers a request whose
 * message never arrives, which holds a stream slot before any handler runs. Calls with
 * a deadline, and streaming calls (feeds such as WatchRevocations stay open by design),
 * pass untouched.
 *
 * @example
 * new grpc.Server({ interceptors: [unaryDeadlineInterceptor(60_000)] });
 */
export function unaryDeadlineInterceptor(maxMs: number): grpc.ServerInterceptor {
  if (!Number.isInteger(maxMs) || maxMs <= 0 || maxMs > MAX_TIMER_MS) throw new TypeError('unaryDeadlineInterceptor: maxMs must be a positive integer of at most 2^31-1');
  return (method, call) => {
    const unary = !method.requestStream && !method.responseStream;
    if (!unary || Number.isFinite(deadlineMs(call.getDeadline()))) return new grpc.ServerInterceptingCall(call);
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(new grpc.ServerListenerBuilder().withOnCancel(stop).build()))
      .withSendStatus((status, next) => {
        stop();
        next(status);
      })
      .build();
    const intercepted = new grpc.ServerInterceptingCall(call, responder);
    timer = setTimeout(() => {
      timer = undefined;
      intercepted.sendStatus({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded (the call named none)', metadata: new grpc.Metadata() });
    }, maxMs);
    // Never keeps a process alive on its own.
    timer.unref();
    return intercepted;
  };
}
