package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/backends/record"
)

type recordFlags struct {
	upstream, listen, out string
	listenAny             bool
	akid, secret, session string
	region                string
	grace                 time.Duration
}

func init() {
	var f recordFlags
	cmd := &cobra.Command{
		Use:   "record --upstream URL --out FILE",
		Short: "Record the timing of calls to a real endpoint through a local reverse proxy",
		Long: `Run a reverse proxy to an Azure OpenAI or Bedrock Runtime endpoint (or a fake)
and append one JSON line per call to FILE: provider, deployment or model id,
operation, status, error code, tokens in and out, time to headers, time to first
token, the gaps between tokens (as a histogram), total time. Prompts, completions,
error messages, headers and credentials are never written. Point your clients at
the proxy's address instead of the endpoint; 'mcbench profile fit FILE' turns the
recording into a latency profile.

Azure keys pass through untouched. Bedrock requests are signed (SigV4) for the
proxy's host, so the proxy re-signs them for the upstream with the credentials
given by the flags or by AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN (prefer the environment: flags show in process listings). The
signing region is the client's unless --region says otherwise. Without
credentials Bedrock requests pass through with the client's signature and Host,
which only a fake accepts.

The proxy listens on a loopback address unless --listen-any is given. Stop it
with Ctrl-C (SIGINT) or SIGTERM: calls in flight get --grace to finish, and every
line is on disk before it exits.`,
		Example: `  mcbench record --upstream https://myres.openai.azure.com --out calls.jsonl
  mcbench record --upstream https://bedrock-runtime.us-east-1.amazonaws.com --listen 127.0.0.1:8089 --out calls.jsonl
  mcbench record --upstream http://127.0.0.1:8080 --out fake.jsonl   # in front of 'mcbench fake --listen 127.0.0.1:8080'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRecord(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.upstream, "upstream", "", "base URL of the endpoint to forward to (required)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	fl.StringVar(&f.out, "out", "", "recording file to append JSON lines to (required)")
	fl.BoolVar(&f.listenAny, "listen-any", false, "allow a non-loopback listen address")
	fl.StringVar(&f.akid, "aws-access-key-id", "", "access key id to re-sign Bedrock requests with (default $AWS_ACCESS_KEY_ID)")
	fl.StringVar(&f.secret, "aws-secret-access-key", "", "secret access key to re-sign Bedrock requests with (default $AWS_SECRET_ACCESS_KEY)")
	fl.StringVar(&f.session, "aws-session-token", "", "session token for temporary credentials (default $AWS_SESSION_TOKEN)")
	fl.StringVar(&f.region, "region", "", "signing region for Bedrock (default: the one the client signed for)")
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "time calls in flight get to finish when stopping")
	rootCmd.AddCommand(cmd)
}

// awsCredentials returns the re-signing credentials from the flags, else the
// environment, or nil if neither gives an access key and a secret.
func (f *recordFlags) awsCredentials() (*aws.Credentials, error) {
	akid, secret, session := f.akid, f.secret, f.session
	if akid == "" && secret == "" {
		akid, secret = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		if session == "" {
			session = os.Getenv("AWS_SESSION_TOKEN")
		}
	}
	switch {
	case akid == "" && secret == "":
		return nil, nil
	case akid == "" || secret == "":
		return nil, errors.New("--aws-access-key-id and --aws-secret-access-key go together")
	}
	return &aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: session}, nil
}

func runRecord(cmd *cobra.Command, f *recordFlags) error {
	if f.upstream == "" {
		return usageError{errors.New("--upstream is required: the endpoint to record, e.g. https://myres.openai.azure.com")}
	}
	if f.out == "" {
		return usageError{errors.New("--out is required: the file to append the recording to")}
	}
	if f.grace < 0 {
		return usageError{fmt.Errorf("--grace must be >= 0, got %s", f.grace)}
	}
	u, err := url.Parse(f.upstream)
	if err != nil {
		return usageError{fmt.Errorf("--upstream: %w", err)}
	}
	creds, err := f.awsCredentials()
	if err != nil {
		return usageError{err}
	}
	errOut := cmd.ErrOrStderr()
	w, err := record.Create(f.out)
	if err != nil {
		return usageError{fmt.Errorf("--out: %w", err)}
	}
	p, err := record.New(record.Options{
		Upstream: u, Sink: w, AWS: creds, Region: f.region,
		Logf: func(format string, args ...any) { fmt.Fprintf(errOut, "mcbench record: "+format+"\n", args...) },
	})
	if err != nil {
		w.Close()
		return usageError{err}
	}
	l, err := fake.Listen(f.listen, f.listenAny)
	if err != nil {
		w.Close()
		return usageError{fmt.Errorf("--listen: %w", err)}
	}
	signing := "Bedrock requests pass through with the client's signature (no AWS credentials given)"
	if creds != nil {
		signing = "Bedrock requests re-signed for the upstream"
	}
	fmt.Fprintf(errOut, "mcbench record: listening on http://%s, forwarding to %s, appending to %s\nmcbench record: %s\n",
		l.Addr(), u.Redacted(), f.out, signing)

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := p.Serve(ctx, l, f.grace)
	closeErr := w.Close()
	fmt.Fprintf(errOut, "mcbench record: stopped; %s recorded in %s\n", plural(w.Count(), "call"), f.out)
	if serveErr != nil {
		return serveErr
	}
	return closeErr
}
