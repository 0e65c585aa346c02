package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"atelier/app"
	"atelier/app/client"
	"atelier/humanize"
)

// `atelier settings`: the app-wide preferences the desktop's Settings view
// shows, and the switches a headless studio machine needs without it.

func newSettingsCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "settings",
		Short: "Show the app's settings; switch pausing on battery and start at login",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSettings(cmd.Context(), gopts)
		},
	}
	c.AddCommand(
		newSettingsSwitchCommand(gopts, "pause-on-battery",
			"Pause sync and preview rendering while the machine runs on battery (on|off)",
			func(ctx context.Context, cl *client.Client, on bool) error {
				return cl.Settings.SetPauseOnBattery(ctx, on)
			}),
		newSettingsSwitchCommand(gopts, "start-at-login",
			"Start the desktop app hidden in the tray when you log in (on|off)",
			func(ctx context.Context, cl *client.Client, on bool) error {
				return cl.Settings.SetStartAtLogin(ctx, on)
			}),
	)
	return c
}

// newSettingsSwitchCommand is `atelier settings NAME on|off`.
func newSettingsSwitchCommand(gopts *globalOptions, name, short string, set func(context.Context, *client.Client, bool) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " on|off",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			on, err := parseOnOff(args[0])
			if err != nil {
				return fmt.Errorf("atelier settings %s: %w", name, err)
			}
			ctx := cmd.Context()
			if err := do(ctx, gopts, func(cl *client.Client) error { return set(ctx, cl, on) }); err != nil {
				return err
			}
			return runSettings(ctx, gopts)
		},
	}
}

// parseOnOff reads a switch's value.
func parseOnOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is neither on nor off: give on or off", s)
}

func runSettings(ctx context.Context, gopts *globalOptions) error {
	var st app.Settings
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { st, err = cl.Settings.Get(ctx); return }); err != nil {
		return err
	}
	onOff := map[bool]string{true: "on", false: "off"}
	return output(gopts, st, func(w io.Writer) {
		fmt.Fprintf(w, "Atelier %s\n", st.Version)
		fmt.Fprintf(w, "Data\t%s (%s)\n", st.DataDir, humanize.Bytes(st.DataBytes))
		fmt.Fprintf(w, "Previews\t%s (%s)\n", st.CacheDir, humanize.Bytes(st.CacheBytes))
		login := onOff[st.StartAtLogin]
		if st.StartAtLogin {
			login += " (starts hidden in the tray)"
		}
		fmt.Fprintf(w, "Start at login\t%s\n", login)
		battery := onOff[st.PauseOnBattery]
		if st.OnBattery {
			battery += ": on battery now, sync and previews are paused"
		}
		fmt.Fprintf(w, "Pause on battery\t%s\n", battery)
	})
}
