// A stand-in for lib/backend in the store tests: `call` is a vi.fn the test
// programs, and `emit(name, data)` delivers an engine event to whoever
// subscribed with onEvent. Use it with
//   vi.mock('../backend', () => import('./backendmock'))
import { vi } from 'vitest'

export const handlers = new Map<string, (data: any) => void>()
export const callMock = vi.fn()

export const call = (...a: any[]) => callMock(...a)
export const onEvent = (name: string, fn: (data: any) => void) => {
  handlers.set(name, fn)
  return () => handlers.delete(name)
}
