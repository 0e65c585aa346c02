// Package traytest is a tray host for tests: a private D-Bus session bus
// and a minimal StatusNotifierWatcher (what a panel runs) that records the
// items registering with it, reads their status and menu, and clicks menu
// entries the way a panel does when the creator picks one.
package traytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = "/StatusNotifierWatcher"
	itemIface    = "org.kde.StatusNotifierItem"
	menuIface    = "com.canonical.dbusmenu"
	defaultItem  = "/StatusNotifierItem"
	dbusDaemonPk = "dbus-daemon" // the Debian package, in scripts/deps.sh's test list
)

// Bus starts a private D-Bus session bus for the test and returns its
// address (for DBUS_SESSION_BUS_ADDRESS); it stops when the test ends.
func Bus(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Fatalf("dbus-daemon is not installed (Debian package %s; scripts/deps.sh test installs it): %v", dbusDaemonPk, err)
	}
	dir, err := os.MkdirTemp("", "atelier-bus-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cmd := exec.Command(bin, "--session", "--nofork", "--nosyslog", "--print-address=1",
		"--address=unix:path="+filepath.Join(dir, "bus"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- strings.TrimSpace(sc.Text())
		}
		close(line)
	}()
	select {
	case addr, ok := <-line:
		if !ok || addr == "" {
			t.Fatal("dbus-daemon did not print its address")
		}
		return addr
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon did not start within 10 s")
	}
	return ""
}

// Item is one registered StatusNotifierItem: its bus name and object path.
type Item struct {
	Service string
	Path    string
}

// Entry is one menu entry as a panel reads it.
type Entry struct {
	ID        int32
	Label     string
	Enabled   bool
	Separator bool
}

// Watcher is a StatusNotifierWatcher with a host registered, on one bus.
type Watcher struct {
	conn  *dbus.Conn
	props *prop.Properties

	mu    sync.Mutex
	items []Item
	added chan struct{}

	// PropertiesOnly reads menus with GetGroupProperties instead of a
	// panel's GetLayout. A test whose item runs in its own (-race) process
	// sets it: fyne.io/systray v1.12's GetLayout reads the menu revision
	// under one lock while its refresh writes it under another, a data race
	// in the library that the race detector reports as the test's.
	PropertiesOnly bool
}

type watcherObj struct{ w *Watcher }

// RegisterStatusNotifierItem is the watcher's method items call. The
// argument is a bus name, or an object path on the caller's connection.
func (o watcherObj) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	it := Item{Service: service, Path: defaultItem}
	if strings.HasPrefix(service, "/") {
		it = Item{Service: string(sender), Path: service}
	}
	w := o.w
	w.mu.Lock()
	w.items = append(w.items, it)
	names := make([]string, len(w.items))
	for i, x := range w.items {
		names[i] = x.Service + x.Path
	}
	w.mu.Unlock()
	w.props.SetMust(watcherName, "RegisteredStatusNotifierItems", names)
	w.conn.Emit(watcherPath, watcherName+".StatusNotifierItemRegistered", it.Service+it.Path)
	select {
	case w.added <- struct{}{}:
	default:
	}
	return nil
}

// RegisterStatusNotifierHost is how a panel announces itself.
func (o watcherObj) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }

// NewWatcher connects to the bus at addr and owns the watcher's name, with
// a host registered (hostRegistered false plays a watcher with no panel).
func NewWatcher(addr string, hostRegistered bool) (*Watcher, error) {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	w := &Watcher{conn: conn, added: make(chan struct{}, 1)}
	if err := conn.Export(watcherObj{w}, watcherPath, watcherName); err != nil {
		conn.Close()
		return nil, err
	}
	w.props, err = prop.Export(conn, watcherPath, map[string]map[string]*prop.Prop{
		watcherName: {
			"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
			"IsStatusNotifierHostRegistered": {Value: hostRegistered, Emit: prop.EmitTrue},
			"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("own %s: %v (reply %v)", watcherName, err, reply)
	}
	return w, nil
}

// Close leaves the bus.
func (w *Watcher) Close() { w.conn.Close() }

// Items are the items registered so far.
func (w *Watcher) Items() []Item {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Item(nil), w.items...)
}

// WaitItem waits for an item to register and returns the latest one.
func (w *Watcher) WaitItem(ctx context.Context) (Item, error) { return w.WaitItemAfter(ctx, 0) }

// WaitItemAfter waits for more than n items to have registered (n is
// len(Items()) before an app starts) and returns the latest one.
func (w *Watcher) WaitItemAfter(ctx context.Context, n int) (Item, error) {
	for {
		if its := w.Items(); len(its) > n {
			return its[len(its)-1], nil
		}
		select {
		case <-ctx.Done():
			return Item{}, errors.New("no StatusNotifierItem registered with the watcher")
		case <-w.added:
		}
	}
}

// Property reads one org.kde.StatusNotifierItem property of it.
func (w *Watcher) Property(it Item, name string) (any, error) {
	v, err := w.conn.Object(it.Service, dbus.ObjectPath(it.Path)).GetProperty(itemIface + "." + name)
	if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", name, it.Service, err)
	}
	return v.Value(), nil
}

// Tooltip is the item's tooltip title (the third field of its ToolTip).
func (w *Watcher) Tooltip(it Item) (string, error) {
	v, err := w.conn.Object(it.Service, dbus.ObjectPath(it.Path)).GetProperty(itemIface + ".ToolTip")
	if err != nil {
		return "", err
	}
	var tip struct {
		Name  string
		Icons []struct {
			W, H int32
			Pix  []byte
		}
		Title, Body string
	}
	if err := dbus.Store([]any{v.Value()}, &tip); err != nil {
		return "", fmt.Errorf("decode ToolTip %v: %w", v, err)
	}
	return tip.Title, nil
}

// IconPixels is the first pixmap of the item's IconPixmap (ARGB, width, height).
func (w *Watcher) IconPixels(it Item) (pix []byte, width, height int32, err error) {
	v, err := w.conn.Object(it.Service, dbus.ObjectPath(it.Path)).GetProperty(itemIface + ".IconPixmap")
	if err != nil {
		return nil, 0, 0, err
	}
	var px []struct {
		W, H int32
		Pix  []byte
	}
	if err := dbus.Store([]any{v.Value()}, &px); err != nil {
		return nil, 0, 0, fmt.Errorf("decode IconPixmap: %w", err)
	}
	if len(px) == 0 {
		return nil, 0, 0, errors.New("the item has no icon pixmap")
	}
	return px[0].Pix, px[0].W, px[0].H, nil
}

func (w *Watcher) menuObject(it Item) (dbus.BusObject, error) {
	v, err := w.conn.Object(it.Service, dbus.ObjectPath(it.Path)).GetProperty(itemIface + ".Menu")
	if err != nil {
		return nil, fmt.Errorf("read the Menu of %s: %w", it.Service, err)
	}
	p, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		return nil, fmt.Errorf("the Menu of %s is %T, not an object path", it.Service, v.Value())
	}
	return w.conn.Object(it.Service, p), nil
}

// Menu reads the item's menu (top level) the way a panel does.
func (w *Watcher) Menu(it Item) ([]Entry, error) {
	obj, err := w.menuObject(it)
	if err != nil {
		return nil, err
	}
	if w.PropertiesOnly {
		return w.menuByProperties(obj)
	}
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := obj.Call(menuIface+".GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		return nil, fmt.Errorf("GetLayout: %w", err)
	}
	var out []Entry
	for _, c := range root.Children {
		var e struct {
			ID       int32
			Props    map[string]dbus.Variant
			Children []dbus.Variant
		}
		if err := dbus.Store([]any{c.Value()}, &e); err != nil {
			return nil, fmt.Errorf("decode a menu entry %v: %w", c, err)
		}
		out = append(out, entryOf(e.ID, e.Props))
	}
	return out, nil
}

// entryOf is one menu entry from its dbusmenu properties.
func entryOf(id int32, props map[string]dbus.Variant) Entry {
	en := Entry{ID: id, Enabled: true}
	if v, ok := props["label"]; ok {
		en.Label, _ = v.Value().(string)
	}
	if v, ok := props["enabled"]; ok {
		en.Enabled, _ = v.Value().(bool)
	}
	if v, ok := props["type"]; ok {
		s, _ := v.Value().(string)
		en.Separator = s == "separator"
	}
	return en
}

// maxMenuIDs bounds the ids menuByProperties asks for: fyne.io/systray
// numbers a menu's entries 1, 2, ... in the order they were added.
const maxMenuIDs = 64

// menuByProperties reads the top-level entries by id, in id order.
func (w *Watcher) menuByProperties(obj dbus.BusObject) ([]Entry, error) {
	ids := make([]int32, maxMenuIDs)
	for i := range ids {
		ids[i] = int32(i + 1)
	}
	var got []struct {
		ID    int32
		Props map[string]dbus.Variant
	}
	if err := obj.Call(menuIface+".GetGroupProperties", 0, ids, []string{}).Store(&got); err != nil {
		return nil, fmt.Errorf("GetGroupProperties: %w", err)
	}
	out := make([]Entry, 0, len(got))
	for _, e := range got {
		out = append(out, entryOf(e.ID, e.Props))
	}
	return out, nil
}

// Labels are the menu's entry labels, separators left out.
func (w *Watcher) Labels(it Item) ([]string, error) {
	m, err := w.Menu(it)
	var out []string
	for _, e := range m {
		if !e.Separator {
			out = append(out, e.Label)
		}
	}
	return out, err
}

// Click picks the menu entry labelled label, as a panel does.
func (w *Watcher) Click(it Item, label string) error {
	m, err := w.Menu(it)
	if err != nil {
		return err
	}
	for _, e := range m {
		if e.Label == label {
			obj, err := w.menuObject(it)
			if err != nil {
				return err
			}
			return obj.Call(menuIface+".Event", 0, e.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
		}
	}
	return fmt.Errorf("no menu entry %q (menu: %+v)", label, m)
}

// Activate is a left click on the icon.
func (w *Watcher) Activate(it Item) error {
	return w.conn.Object(it.Service, dbus.ObjectPath(it.Path)).Call(itemIface+".Activate", 0, int32(0), int32(0)).Err
}

// Gone says whether the item's bus name has left the bus (its process quit).
func (w *Watcher) Gone(it Item) bool {
	var has bool
	if err := w.conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, it.Service).Store(&has); err != nil {
		return false
	}
	return !has
}
