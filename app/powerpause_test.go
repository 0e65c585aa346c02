package app

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atelier/internal/testwait"
)

// fakePower writes a laptop's power supply folder: its mains adapter online
// (plugged in) or not, beside a system battery.
func fakePower(t *testing.T, dir string, plugged bool) {
	t.Helper()
	online, status := "0", "Discharging"
	if plugged {
		online, status = "1", "Charging"
	}
	for name, attrs := range map[string]map[string]string{
		"AC":   {"type": "Mains", "online": online},
		"BAT0": {"type": "Battery", "status": status, "scope": "System"},
	} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		for k, v := range attrs {
			if err := os.WriteFile(filepath.Join(dir, name, k), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// With "pause on battery" set, unplugging holds sync and the render queue
// ("paused for power"), which neither sets nor clears the creator's own
// pause of sync; plugging in lets them go on, and a preview held meanwhile
// renders.
func TestPauseOnBatteryHoldsSyncAndPreviews(t *testing.T) {
	root := t.TempDir()
	supply := filepath.Join(root, "power_supply")
	fakePower(t, supply, false)
	e, err := Open(DirsUnder(filepath.Join(root, "home")), Options{Background: true, PowerSupplyDir: supply, PowerPoll: 20 * time.Millisecond, PreviewSettle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	// the setting is off: on battery, nothing is held
	time.Sleep(50 * time.Millisecond)
	if st, _ := e.Sync.Status(); st.PowerPaused || e.Library.Stats().PowerPaused {
		t.Fatal("held on battery although the creator did not ask for it")
	}
	if err := e.Sync.Pause(); err != nil { // the creator's own pause
		t.Fatal(err)
	}
	if err := e.Settings.SetPauseOnBattery(true); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 10*time.Second, 10*time.Millisecond, func() error {
		s, err := e.Settings.Get()
		if err != nil || !s.PauseOnBattery || !s.OnBattery {
			return fmt.Errorf("settings %+v, %v: want pauseOnBattery and onBattery", s, err)
		}
		return nil
	})
	st, _ := e.Sync.Status()
	if !st.Paused || !st.PowerPaused || !e.Library.Stats().PowerPaused {
		t.Fatalf("on battery: sync paused=%v powerPaused=%v, previews held=%v; want all", st.Paused, st.PowerPaused, e.Library.Stats().PowerPaused)
	}
	// the creator resumes: the power hold stays
	if err := e.Sync.Resume(); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.Sync.Status(); st.Paused || !st.PowerPaused {
		t.Fatalf("after Resume on battery: paused=%v powerPaused=%v; want false, true", st.Paused, st.PowerPaused)
	}

	// a picture added on battery waits
	proj := filepath.Join(root, "Cover Shoot")
	os.MkdirAll(proj, 0o755)
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 48)))
	os.WriteFile(filepath.Join(proj, "cover.png"), b.Bytes(), 0o644)
	p, err := e.Projects.Add(proj)
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 30*time.Second, 10*time.Millisecond, func() error {
		if qs := e.Library.Stats(); qs.Pending+qs.Running == 0 {
			return fmt.Errorf("cover.png not queued: %+v", qs)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond)
	if qs := e.Library.Stats(); qs.Done != 0 {
		t.Fatalf("a preview rendered on battery: %+v", qs)
	}
	items, err := e.Library.List(string(p.ID), "")
	if err != nil || len(items) != 1 || items[0].Status != "pending" {
		t.Fatalf("on battery: items %+v, %v; want cover.png pending", items, err)
	}

	// the creator pauses sync again, then plugs in: the previews go on,
	// the creator's pause stays
	if err := e.Sync.Pause(); err != nil {
		t.Fatal(err)
	}
	fakePower(t, supply, true)
	testwait.Until(t, 30*time.Second, 10*time.Millisecond, func() error {
		items, err := e.Library.List(string(p.ID), "")
		if err != nil || len(items) != 1 || items[0].Status != "ready" {
			return fmt.Errorf("plugged in: items %+v, %v; want cover.png ready", items, err)
		}
		return nil
	})
	st, _ = e.Sync.Status()
	if !st.Paused || st.PowerPaused || e.Library.Stats().PowerPaused {
		t.Fatalf("plugged in: sync paused=%v powerPaused=%v, previews held=%v; want true, false, false", st.Paused, st.PowerPaused, e.Library.Stats().PowerPaused)
	}
	if s, _ := e.Settings.Get(); s.OnBattery {
		t.Fatal("Settings says on battery after plugging in")
	}

	// the setting off: unplugged again, nothing is held
	if err := e.Settings.SetPauseOnBattery(false); err != nil {
		t.Fatal(err)
	}
	fakePower(t, supply, false)
	time.Sleep(100 * time.Millisecond)
	if st, _ := e.Sync.Status(); st.PowerPaused || !st.Paused {
		t.Fatalf("setting off: paused=%v powerPaused=%v; want the creator's pause only", st.Paused, st.PowerPaused)
	}
}
