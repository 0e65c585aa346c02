// Package privacy is Atelier's consent and local analytics engine: purposes and
// their policies, an append-only hash-chained consent ledger, allow-listed usage
// events with rollups, audience statistics imported from platform CSV exports,
// reversible A/B experiments, export of everything and erase per purpose.
//
// Everything lives in the local database under the "priv/" prefix and nothing
// is collected for a purpose until the creator grants it.
package privacy

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"atelier/app/apierr"
)

// Purpose names.
const (
	AnalyticsLocal = "analytics.local"
	AnalyticsShare = "analytics.share"
	AudienceImport = "audience.import"
	Experiments    = "experiments"
	SyncCloud      = "sync.cloud"
	CrashReports   = "crash.reports"
)

// PolicyVersion is the version of the policy texts below. Changing a text means
// a new version: grants given under an older text no longer count and the
// creator is asked again.
const PolicyVersion = "2026-11-01"

// PurposeDef describes one purpose a creator can grant.
type PurposeDef struct {
	Name          string        `json:"name"`
	Title         string        `json:"title"`
	Description   string        `json:"description"` // one plain-language sentence or two
	Policy        string        `json:"policy"`      // the full text the creator agrees to
	Version       string        `json:"policyVersion"`
	SHA256        string        `json:"policySha256"` // hex SHA-256 of Policy
	Retention     time.Duration `json:"-"`            // raw data kept this long (0: until erased)
	RetentionDays int           `json:"retentionDays"`
	// Prefixes are the database prefixes holding data collected under the purpose;
	// erasing the purpose leaves no key under any of them.
	Prefixes []string `json:"-"`
}

var purposeDefs = []PurposeDef{
	{
		Name:        AnalyticsLocal,
		Title:       "Usage analytics on this machine",
		Description: "Atelier counts how you use its features (a project added, a preview rendered, a module installed, a sync run) so your dashboard can show it. Nothing leaves this machine.",
		Policy: "Atelier records usage events of its own features on this computer only. Events carry no file names, paths, " +
			"titles or free text: only the kind of action and coarse, bucketed numbers (for example a size of 10-100 MB). " +
			"Raw events are deleted after 30 days; hourly, daily and monthly counts are kept until you erase them. " +
			"You can withdraw at any time and erase everything collected.",
		Retention: 30 * 24 * time.Hour,
		Prefixes:  []string{"priv/ev/" + AnalyticsLocal + "/", "priv/roll/" + AnalyticsLocal + "/"},
	},
	{
		Name:        AnalyticsShare,
		Title:       "Share aggregated statistics",
		Description: "Daily counts (never individual events) may leave this machine, for example to your own cloud sync. Counts below a threshold are hidden so nothing can single anyone out.",
		Policy: "When granted, Atelier may send aggregated daily counts of usage and audience statistics off this machine " +
			"(for example with your cloud sync). Individual events never leave the machine, and any count smaller than " +
			"the anonymity threshold is suppressed. Withdrawing stops sharing immediately.",
		Prefixes: []string{"priv/share/"},
	},
	{
		Name:        AudienceImport,
		Title:       "Audience statistics",
		Description: "Import the plays, streams and sales reports you download from platforms, to chart them next to your work.",
		Policy: "When granted, Atelier imports the statistics files you choose (plays, streams, views, sales per day per " +
			"track or product) and stores them on this computer. They are kept until you erase them and never shared " +
			"unless you also grant sharing of aggregated statistics.",
		Prefixes: []string{"priv/aud/", "priv/roll/" + AudienceImport + "/"},
	},
	{
		Name:        Experiments,
		Title:       "Experiments",
		Description: "Try two versions of something you publish (a preview length, a price) and count which one works better. Only counts per version are kept.",
		Policy: "When granted, Atelier assigns visitors of what you publish to experiment variants by hashing an identifier, " +
			"and counts exposures and conversions per variant. No identifier is stored; only the counts and the history " +
			"of your changes to each experiment. Stopping an experiment returns everyone to the original version.",
		Retention: 90 * 24 * time.Hour,
		Prefixes:  []string{"priv/xp/", "priv/ev/" + Experiments + "/", "priv/roll/" + Experiments + "/"},
	},
	{
		Name:        SyncCloud,
		Title:       "Cloud sync",
		Description: "Copy the folders you select, encrypted, to the cloud storage you configure. Nothing is uploaded without this.",
		Policy: "When granted, Atelier uploads the files selected by your sync rules, encrypted on this machine, to the " +
			"storage you configured. Withdrawing stops all uploads; files already uploaded stay in your storage until you delete them there.",
		Prefixes: []string{"priv/sync/"},
	},
	{
		Name:        CrashReports,
		Title:       "Crash reports",
		Description: "When Atelier crashes, keep a report (the error and where in Atelier's code it happened, no file contents) that you can choose to send.",
		Policy: "When granted, Atelier writes a report when it crashes: the error message, the stack of Atelier's own code " +
			"and the app version. Reports contain no file contents. They are kept on this machine until you erase them.",
		Prefixes: []string{"priv/crash/"},
	},
}

func init() {
	for i := range purposeDefs {
		p := &purposeDefs[i]
		p.Version = PolicyVersion
		sum := sha256.Sum256([]byte(p.Policy))
		p.SHA256 = hex.EncodeToString(sum[:])
		p.RetentionDays = int(p.Retention / (24 * time.Hour))
	}
}

// Purposes lists every purpose, in a stable order.
func Purposes() []PurposeDef {
	out := make([]PurposeDef, len(purposeDefs))
	copy(out, purposeDefs)
	return out
}

// Lookup returns the purpose called name.
func Lookup(name string) (PurposeDef, error) {
	for _, p := range purposeDefs {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(purposeDefs))
	for i, p := range purposeDefs {
		names[i] = p.Name
	}
	sort.Strings(names)
	return PurposeDef{}, apierr.Errorf(apierr.InvalidInput, "unknown purpose %q: use one of %s", name, strings.Join(names, ", "))
}

// purposeIndex is the position of name in purposeDefs, or -1.
func purposeIndex(name string) int {
	for i, p := range purposeDefs {
		if p.Name == name {
			return i
		}
	}
	return -1
}
