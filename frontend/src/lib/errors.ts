// The one error path of the frontend. Every failed call (desktop bridge or
// browser fetch) rejects with an ApiError carrying the engine's error kind
// (app/apierr: notFound, invalidInput, needsConsent, conflict, locked,
// internal) and the message meant for the app: when the engine's message
// gives advice that only fits a terminal ("see `atelier remote list`",
// "--overwrite"), the engine sends an app wording beside it and `message` is
// that; `detail` keeps the engine's full message. Views branch on `kind`
// (never on message text), show `message`, and report what they do not
// handle with `report` (the shared `lastError` store) or `errorMessage`.
import { writable } from 'svelte/store'

/** The engine's error kinds (app/apierr), plus what the transport adds. */
export type ErrorKind =
  | 'notFound'
  | 'invalidInput'
  | 'needsConsent'
  | 'conflict'
  | 'locked'
  | 'internal'
  | 'unauthorized' // the browser UI's token is missing or wrong
  | 'transport' // no answer, or an answer that is not the API's

const kinds: ErrorKind[] = ['notFound', 'invalidInput', 'needsConsent', 'conflict', 'locked', 'internal', 'unauthorized', 'transport']

/** The error body of a call, as app/api.Reply encodes it. */
export interface Reply {
  result?: unknown
  error?: string
  kind?: string
  ui?: string
}

export class ApiError extends Error {
  readonly kind: ErrorKind
  /** The engine's own message (the CLI's wording); `message` is the app's. */
  readonly detail: string
  /** The "Service.Method" that failed, '' when unknown. */
  readonly method: string

  constructor(kind: ErrorKind, message: string, detail = message, method = '') {
    super(message)
    this.name = 'ApiError'
    this.kind = kind
    this.detail = detail
    this.method = method
  }
}

function parseKind(k: unknown): ErrorKind {
  return kinds.includes(k as ErrorKind) ? (k as ErrorKind) : 'internal'
}

/** fromReply turns an error reply into an ApiError (the app's wording first). */
export function fromReply(method: string, body: Reply): ApiError {
  const detail = String(body.error ?? '')
  return new ApiError(parseKind(body.kind), body.ui || detail, detail, method)
}

/** toApiError makes an ApiError of anything a call or a view threw. */
export function toApiError(e: unknown, method = ''): ApiError {
  if (e instanceof ApiError) return e
  if (e instanceof Error) return new ApiError('internal', e.message, e.message, method)
  return new ApiError('internal', String(e), String(e), method)
}

/** isKind says whether e is an ApiError of kind k. */
export function isKind(e: unknown, k: ErrorKind): e is ApiError {
  return e instanceof ApiError && e.kind === k
}

/** errorMessage is the sentence to show for e. */
export function errorMessage(e: unknown): string {
  return toApiError(e).message
}

/** lastError holds the last error reported and not yet dismissed. */
export const lastError = writable<ApiError | null>(null)

/** report puts e in lastError and returns it as an ApiError. */
export function report(e: unknown): ApiError {
  const err = toApiError(e)
  lastError.set(err)
  return err
}

/** dismiss clears lastError. */
export function dismiss(): void {
  lastError.set(null)
}

/** attempt runs fn; a failure is reported (lastError) and yields undefined. */
export async function attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn()
  } catch (e) {
    report(e)
    return undefined
  }
}
