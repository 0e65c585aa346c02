package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"atelier/atomicfile"
	"atelier/diskspace"
	"atelier/localdb"
)

// `atelier db`: back up and restore the database (no engine may run).

func newDBCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "db", Short: "Back up and restore the database"}
	c.AddCommand(&cobra.Command{
		Use:   "backup FILE",
		Short: "Write a full backup of the database to FILE",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDBBackup(gopts, args[0])
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the database with a backup (the current one is kept aside)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDBRestore(gopts, args[0])
		},
	})
	return c
}

func runDBBackup(gopts *globalOptions, file string) error {
	if engineRunning(gopts) {
		return fmt.Errorf("an engine is running on this data directory: quit the desktop app or stop `atelier daemon` first")
	}
	db, err := dbOpen(gopts)
	if err != nil {
		return err
	}
	defer db.Close()
	return atomicfile.Write(file, 0o600, func(f *os.File) error { return db.Backup(f) })
}

func runDBRestore(gopts *globalOptions, file string) error {
	if engineRunning(gopts) {
		return fmt.Errorf("an engine is running on this data directory: quit the desktop app or stop `atelier daemon` first")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := dirs(gopts)
	if err != nil {
		return err
	}
	dbDir := filepath.Join(d.Data, "db")
	// The restored copy sits beside the current database until the
	// swap: refuse up front rather than fill the disk half-way.
	if fi, err := f.Stat(); err == nil {
		if err := diskspace.Check(d.Data, 2*fi.Size()+localdb.OpenHeadroom(localdb.DesktopOptions(dbDir)), "restoring "+file); err != nil {
			return err
		}
	}
	staging := dbDir + ".restoring"
	os.RemoveAll(staging)
	ndb, err := localdb.Open(staging, localdb.Options{})
	if err != nil {
		return err
	}
	if err := ndb.Restore(f); err != nil {
		ndb.Close()
		os.RemoveAll(staging)
		return fmt.Errorf("%s is not a usable Atelier backup: %w (the current database is unchanged)", file, err)
	}
	if err := ndb.Close(); err != nil {
		return err
	}
	aside := ""
	if _, err := os.Stat(dbDir); err == nil {
		aside = dbDir + ".before-restore"
		os.RemoveAll(aside)
		if err := os.Rename(dbDir, aside); err != nil {
			return err
		}
	}
	if err := os.Rename(staging, dbDir); err != nil {
		return err
	}
	fmt.Printf("Restored from %s.", file)
	if aside != "" {
		fmt.Printf(" The previous database is kept at %s.", aside)
	}
	fmt.Println()
	if _, err := os.Stat(filepath.Join(d.Data, "consent-head.json")); err == nil {
		fmt.Println("If this backup is older than your last consent decision, `atelier consent verify` reports the decisions since then as lost, and Atelier asks for consent again.")
	}
	return nil
}

func dbOpen(gopts *globalOptions) (*localdb.DB, error) {
	d, err := dirs(gopts)
	if err != nil {
		return nil, err
	}
	return localdb.Open(filepath.Join(d.Data, "db"), localdb.Options{})
}
