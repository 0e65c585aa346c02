// Types of the Privacy view's own parts (the service's shapes are in lib/types/privacy).

/** Guard runs fn as the busy action label, showing its error in the view. */
export type Guard = (label: string, fn: () => Promise<void>) => Promise<void>
