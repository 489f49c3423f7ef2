package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Every setting of every command comes from a flag or the environment: a
// flag's variable is named by envName, a flag given on the command line
// wins over it, and a few settings (secrets, above all) come from the
// environment alone. settingsTable lists them all for the README.

// envName is the environment variable that sets flag name of command:
// COMMERCESYNC_<NAME>, or COMMERCESYNC_SANDBOX_<NAME> for a sandbox's;
// brokers are KAFKA_BROKERS, the ClickHouse server CLICKHOUSE_ADDR and admin's gateway COMMERCESYNC_URL, as
// operators already name them.
func envName(command, name string) string {
	switch {
	case name == "brokers":
		return "KAFKA_BROKERS"
	case name == "clickhouse":
		return "CLICKHOUSE_ADDR"
	case (command == "admin" || command == "loadgen" || command == "reconcile") && name == "url":
		return "COMMERCESYNC_URL"
	}
	n := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if strings.HasPrefix(command, "sandbox") {
		return "COMMERCESYNC_SANDBOX_" + n
	}
	return "COMMERCESYNC_" + n
}

// parseFlags sets each flag of fs from its environment variable, then
// from args.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(fs.Name(), f.Name)
		v, ok := os.LookupEnv(env)
		if !ok || err != nil {
			return
		}
		if serr := fs.Set(f.Name, strings.TrimSpace(v)); serr != nil {
			err = fmt.Errorf("%s=%q: %w (it sets -%s)", env, v, serr, f.Name)
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}

// envSetting is a setting read from the environment alone.
type envSetting struct {
	name, commands, def, usage string
}

func envSettings() []envSetting {
	return []envSetting{
		{"KAFKA_BROKERS", "dev", "the embedded broker",
			"Kafka brokers, comma separated: dev runs against them instead of starting its own"},
		{"COMMERCESYNC_SEALING_KEY", "dev, gateway, plan, push", "dev: a key kept in the data folder; the others need it",
			"base64 of the 32 random bytes that seal OAuth tokens and the development key, the same in every process"},
		{"COMMERCESYNC_ADMIN_TOKEN", "dev, gateway, admin", "dev derives one from its sealing key; a gateway without one keeps the admin API shut",
			"the operator token (cso_…) that opens the admin API; admin sends it"},
		{"COMMERCESYNC_<PLATFORM>_CLIENT_SECRET", "gateway, push", "",
			"the OAuth client secret registered with each platform served (XERO, QBO, SAGE, NETSUITE, FREEAGENT)"},
		{"COMMERCESYNC_API_KEY", "loadgen, reconcile", "", "the API key loadgen pushes with (configure and ingest scopes) and reconcile reads with (read scope)"},
		{"COMMERCESYNC_KAFKA_SASL_PASSWORD", "dev, gateway, window, plan, push, loadgen", "", "the SASL password, with -kafka-sasl-mechanism and -kafka-sasl-user"},
	}
}

// settingsCommands are the flag sets of the commands, as they define them.
func settingsCommands() []*flag.FlagSet {
	dev, _ := newDevFlags(io.Discard)
	win, _ := newWindowFlags(io.Discard)
	sb, _ := newSandboxFlags("<platform>", io.Discard)
	adm, _, _ := newAdminFlags(io.Discard)
	lg, _ := newLoadgenFlags(io.Discard)
	gw, _ := newGatewayFlags(io.Discard)
	pl, _ := newPlanFlags(io.Discard)
	pu, _, _ := newPushFlags(io.Discard)
	br, _, _ := newBrokerFlags(io.Discard)
	sk, _ := newSinkFlags(io.Discard)
	rc, _ := newReconcileFlags(io.Discard)
	return []*flag.FlagSet{dev, gw, win, pl, pu, sk, br, sb, adm, lg, rc}
}

// settingsTable is the README's table of every setting.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| Command | Flag | Environment | Default | What it sets |\n|---|---|---|---|---|\n")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, fs := range settingsCommands() {
		fs.VisitAll(func(f *flag.Flag) {
			def := "`" + f.DefValue + "`"
			if f.DefValue == "" {
				def = ""
			}
			fmt.Fprintf(&b, "| `%s` | `-%s` | `%s` | %s | %s |\n", fs.Name(), f.Name, envName(fs.Name(), f.Name), cell(def), cell(f.Usage))
		})
	}
	for _, e := range envSettings() {
		fmt.Fprintf(&b, "| %s | | `%s` | %s | %s |\n", e.commands, e.name, cell(e.def), cell(e.usage))
	}
	return b.String()
}
