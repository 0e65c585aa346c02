package synctest

import "atelier/localdb"

// DBState is a vault.State over a localdb database under a key prefix, the
// way the app keeps it (the same localdb.Prefixed the app uses).
type DBState = localdb.Prefixed
