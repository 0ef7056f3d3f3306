package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/scenarios"
)

type fakeFlags struct {
	scenario  string
	listen    string
	listenAny bool
	jsonOut   bool
	quiet     bool
}

func init() {
	var f fakeFlags
	cmd := &cobra.Command{
		Use:   "fake --scenario FILE",
		Short: "Serve a scenario's deployments as local Azure OpenAI and Bedrock fakes",
		Long: `Serve every deployment of a scenario on one local HTTP listener that speaks the
Azure OpenAI chat-completions protocol (deployments of azure providers, routed by
deployment name) and the Bedrock Runtime protocol (deployments of bedrock
providers, routed by model id), with the scenario's latency, capacity, quota and
fault models running against the wall clock. The official SDKs work against it
unchanged except for the endpoint and the credentials printed at start.

The listener must be a loopback address unless --listen-any is given.`,
		Example: `  mcbench fake --scenario demo
  mcbench fake --scenario my.yaml --listen 127.0.0.1:8080
  mcbench fake --scenario demo --json --quiet > eps.json &   # serves until stopped (Ctrl-C, or kill %1)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFake(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", "", "scenario file or embedded scenario name (required)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port; a bare :PORT is 127.0.0.1:PORT)")
	fl.BoolVar(&f.listenAny, "listen-any", false, "allow a non-loopback listen address")
	fl.BoolVar(&f.jsonOut, "json", false, "print the endpoints as one JSON object on the first stdout line")
	fl.BoolVar(&f.quiet, "quiet", false, "do not show live counters on stderr")
	rootCmd.AddCommand(cmd)
}

func runFake(cmd *cobra.Command, f *fakeFlags) error {
	if f.scenario == "" {
		return usageError{errors.New("--scenario is required (a file or an embedded scenario name)")}
	}
	s, err := scenarios.Open(f.scenario)
	if err != nil {
		return usageError{err}
	}
	srv, err := fake.New(s, fake.Options{})
	if err != nil {
		return usageError{err}
	}
	l, err := fake.Listen(f.listen, f.listenAny)
	if err != nil {
		return usageError{err}
	}
	base := "http://" + l.Addr().String()
	eps := srv.Endpoints(base)
	out := cmd.OutOrStdout()
	if f.jsonOut {
		b, err := json.Marshal(struct {
			Deployments []fake.Endpoint `json:"deployments"`
		}{eps})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s\n", b)
	} else {
		printEndpoints(out, base, srv.Credentials(), eps)
	}
	if fl, ok := out.(interface{ Sync() error }); ok {
		_ = fl.Sync()
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !f.quiet {
		go showCounters(ctx, cmd.ErrOrStderr(), srv)
	}
	err = srv.Serve(ctx, l, 5*time.Second)
	fmt.Fprintln(cmd.ErrOrStderr(), "\nmcbench fake: stopped")
	return err
}

func printEndpoints(w io.Writer, base string, c fake.Credentials, eps []fake.Endpoint) {
	fmt.Fprintf(w, "mcbench fake listening on %s\n\n", base)
	fmt.Fprintf(w, "Azure OpenAI: endpoint %s  api-key %s\n", base, c.APIKey)
	fmt.Fprintf(w, "Bedrock Runtime: endpoint %s  region as below  access key id %s  secret %s\n\n", base, c.AccessKeyID, c.SecretAccessKey)
	t := newTable(w)
	t.row("deployment", "protocol", "route by", "region")
	for _, e := range eps {
		id := e.Deployment
		if e.Provider == "bedrock" {
			id = e.ModelID
		}
		t.row(e.Name, e.Provider, id, e.Region)
	}
	t.flush()
	fmt.Fprintln(w)
}

// showCounters prints per-deployment counters: redrawn in place every second
// on a terminal, a new line every ten seconds otherwise (logs stay readable).
func showCounters(ctx context.Context, w io.Writer, srv *fake.Server) {
	every, prefix, suffix := 10*time.Second, "", "\n"
	if isTerminal(w) {
		every, prefix, suffix = time.Second, "\r", ""
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var b strings.Builder
		for _, d := range srv.Deployments() {
			st := &d.Stats
			fmt.Fprintf(&b, "%s: %d req %d ok %d 429 %d rej %d fail %d live  ", d.Name,
				st.Requests.Load(), st.OK.Load(), st.Throttled.Load(), st.Rejected.Load(), st.Failed.Load(), st.InFlight.Load())
		}
		fmt.Fprintf(w, "%s%s%s", prefix, strings.TrimSpace(b.String()), suffix)
	}
}
