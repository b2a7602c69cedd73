import type { Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamResponse,
  type UnaryResponse,
} from "@connectrpc/connect";

/** Sends `authorization: Bearer <apiKey>` with every call. */
export function bearerAuth(apiKey: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${apiKey}`);
    return next(req);
  };
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;

/**
 * The pause before retry `n` (from 0): exponential from 100 ms, at most 2 s, each with jitter
 * (between half and all of it) so that clients that failed together do not retry together.
 */
export function backoffMs(n: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** n);
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/**
 * Retries a call that failed with UNAVAILABLE (and no other code) up to `retries` times, with
 * exponential backoff, within the call's deadline. A unary call is retried whole; a
 * server-streaming call only until its first message arrives (a stream that broke after that
 * is the caller's to resume); client and bidirectional streams never, since their requests
 * cannot be sent again.
 */
export function retryOnUnavailable(retries: number): Interceptor {
  return (next) => async (req) => {
    const kind = req.method.methodKind;
    if (retries <= 0 || kind === "client_streaming" || kind === "bidi_streaming") {
      return next(req);
    }
    let attempt: () => Promise<UnaryResponse | StreamResponse>;
    if (req.stream) {
      // The one request message of a server stream, kept so that each attempt can send it.
      const messages: Message[] = [];
      for await (const message of req.message) {
        messages.push(message);
      }
      attempt = async () => {
        const res = await next({ ...req, message: iterate(messages) });
        if (!res.stream) {
          return res;
        }
        // A stream that fails before its first message (gRPC answers an error in its trailers
        // alone) has not started: it throws here, and is tried again.
        const received = res.message[Symbol.asyncIterator]();
        const first = await received.next();
        return { ...res, message: resume(first, received) };
      };
    } else {
      attempt = () => next(req);
    }
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        if (n >= retries || ConnectError.from(e).code !== Code.Unavailable) {
          throw e;
        }
        await pause(backoffMs(n), req.signal);
      }
    }
  };
}

/** A stream's messages, the first of which was already read. */
async function* resume<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<T> {
  for (let item = first; !item.done; item = await rest.next()) {
    yield item.value;
  }
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
