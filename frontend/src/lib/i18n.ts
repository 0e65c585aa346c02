// Interface strings, keyed, so the app is ready for more languages. Views use
// t('key') for shared chrome; each language is one table.
const en: Record<string, string> = {
  'app.name': 'Atelier',
  'nav.projects': 'Projects',
  'nav.activity': 'Activity',
  'nav.library': 'Library',
  'nav.modules': 'Modules',
  'nav.privacy': 'Privacy',
  'nav.sync': 'Sync',
  'nav.settings': 'Settings',
  'nav.history': 'History',
  'status.indexing': 'Indexing…',
  'status.rendering': 'Rendering previews',
  'status.syncing': 'Syncing',
  'status.paused': 'Sync paused',
  'status.battery': 'Paused: on battery',
  'status.offline': 'Engine unavailable',
  'status.watching': 'Watching',
  'palette.placeholder': 'Type a command or a file name…',
  'onboard.title': 'Welcome to Atelier',
}

const tables: Record<string, Record<string, string>> = { en }
let lang = 'en'

export function setLanguage(l: string) {
  if (tables[l]) lang = l
}

export function t(key: string): string {
  return tables[lang][key] ?? en[key] ?? key
}
