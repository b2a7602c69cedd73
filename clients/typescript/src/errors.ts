import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, type BadRequest_FieldViolation } from "./gen/google/rpc/error_details_pb.js";

/** One field a request got wrong: `field` is its path (`notification.title`), `description` why. */
export type FieldViolation = BadRequest_FieldViolation;

/**
 * What every call of a Herald client throws: the gRPC status code, the message (as Connect
 * formats it: `[invalid_argument] …`; `rawMessage` is the server's text alone) and, for
 * INVALID_ARGUMENT, the fields at fault from the `google.rpc.BadRequest` detail.
 */
export class HeraldError extends Error {
  override readonly name = "HeraldError";
  readonly code: Code;
  readonly rawMessage: string;
  readonly fieldViolations: readonly FieldViolation[];
  /** Response headers and trailers of the failed call. */
  readonly metadata: Headers;
  /** The Connect error it was made from (`cause.findDetails(schema)` reads other details). */
  override readonly cause: ConnectError;

  constructor(cause: ConnectError) {
    super(cause.message, { cause });
    this.cause = cause;
    this.code = cause.code;
    this.rawMessage = cause.rawMessage;
    this.metadata = cause.metadata;
    this.fieldViolations = cause
      .findDetails(BadRequestSchema)
      .flatMap((badRequest) => badRequest.fieldViolations);
  }

  /** Any error a call raised, as a HeraldError (Connect's own rules for what is not one). */
  static from(reason: unknown): HeraldError {
    return reason instanceof HeraldError ? reason : new HeraldError(ConnectError.from(reason));
  }
}

export { Code };
