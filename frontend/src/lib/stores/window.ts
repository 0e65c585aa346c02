// The desktop window's own calls, answered by the app rather than the engine
// (main.go's localMethods): the window quits explicitly with Ctrl+Q, since
// closing it only hides it into the tray while the engine keeps working.

import { call, isDesktop } from '../backend'

/** quitApp quits the desktop app (finishing or checkpointing the work under way); false in the browser UI. */
export async function quitApp(): Promise<boolean> {
  if (!isDesktop()) return false
  await call<void>('Window.Quit')
  return true
}
