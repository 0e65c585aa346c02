package syncsvc

import "atelier/localdb"

// syncKeys names every key prefix the sync service keeps in the local
// database, in one place.
var syncKeys = struct {
	remote, rules, outbox, conflict, settings, lastRun, state string
}{
	remote:   "sync/remote/",
	rules:    "sync/rules/",
	outbox:   "sync/outbox/",
	conflict: "sync/conflict/",
	settings: "sync/settings/",
	lastRun:  "sync/lastrun/",
	state:    "sync/state/",
}

// syncState is one remote's local vault or mirror state.
func (s *Service) syncState(remote string) localdb.Prefixed {
	return localdb.Prefixed{DB: s.db, Prefix: syncStatePrefix(remote)}
}

// syncStatePrefix is the key prefix of one remote's local state.
func syncStatePrefix(remote string) string { return syncKeys.state + remote + "/" }

// syncErasable are the prefixes erased with the "sync.cloud" consent's data.
func syncErasable() []string {
	return []string{syncKeys.outbox, syncKeys.state, syncKeys.lastRun, syncKeys.conflict}
}
