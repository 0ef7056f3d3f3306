package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/backends/record"
)

type recordFlags struct {
	upstream, listen, out string
	listenAny             bool
	akid                  string
	secretFile            string
	sessionFile           string
	// secretFlag and sessionFlag exist only to refuse a secret given on the
	// command line with advice, instead of cobra's "unknown flag".
	secretFlag, sessionFlag string
	region                  string
	grace                   time.Duration
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
proxy's host, so the proxy re-signs them for the upstream. The access key id
comes from --aws-access-key-id or AWS_ACCESS_KEY_ID; the secret access key from
AWS_SECRET_ACCESS_KEY or --aws-secret-access-key-file PATH; a session token
(temporary credentials) from --aws-session-token-file PATH, or from
AWS_SESSION_TOKEN when the secret came from the environment. Secrets are never
taken as flag values: a command line shows in every user's process list
(ps, /proc/PID/cmdline) and in shell history. A secret file holds the value
alone (surrounding whitespace is ignored); keep it private (chmod 600): one
that group or others can read is used with a warning. The signing region is
the client's unless --region says otherwise. Without credentials Bedrock
requests pass through with the client's signature and Host, which only a fake
accepts.

The proxy listens on a loopback address unless --listen-any is given. Stop it
with Ctrl-C (SIGINT) or SIGTERM: calls in flight get --grace to finish, and every
line is on disk before it exits.`,
		Example: `  mcbench record --upstream https://myres.openai.azure.com --out calls.jsonl
  mcbench record --upstream https://bedrock-runtime.us-east-1.amazonaws.com --listen 127.0.0.1:8089 --out calls.jsonl   # AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set
  mcbench record --upstream https://bedrock-runtime.us-east-1.amazonaws.com --out calls.jsonl --aws-access-key-id AKIA... --aws-secret-access-key-file ~/.aws/bench.secret
  mcbench record --upstream http://127.0.0.1:8080 --out fake.jsonl   # in front of 'mcbench fake --listen 127.0.0.1:8080'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRecord(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.upstream, "upstream", "", "base URL of the endpoint to forward to (required)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port; a bare :PORT is 127.0.0.1:PORT)")
	fl.StringVar(&f.out, "out", "", "recording file to append JSON lines to (required)")
	fl.BoolVar(&f.listenAny, "listen-any", false, "allow a non-loopback listen address")
	fl.StringVar(&f.akid, "aws-access-key-id", "", "access key id to re-sign Bedrock requests with (default $AWS_ACCESS_KEY_ID; an id, not a secret)")
	fl.StringVar(&f.secretFile, "aws-secret-access-key-file", "", "read the secret access key from this `PATH` (default $AWS_SECRET_ACCESS_KEY)")
	fl.StringVar(&f.sessionFile, "aws-session-token-file", "", "read the session token of temporary credentials from this `PATH` (default $AWS_SESSION_TOKEN with a secret from the environment)")
	fl.StringVar(&f.secretFlag, "aws-secret-access-key", "", "refused: use $AWS_SECRET_ACCESS_KEY or --aws-secret-access-key-file")
	fl.StringVar(&f.sessionFlag, "aws-session-token", "", "refused: use $AWS_SESSION_TOKEN or --aws-session-token-file")
	_ = fl.MarkHidden("aws-secret-access-key")
	_ = fl.MarkHidden("aws-session-token")
	fl.StringVar(&f.region, "region", "", "signing region for Bedrock (default: the one the client signed for)")
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "time calls in flight get to finish when stopping")
	rootCmd.AddCommand(cmd)
}

// refuseSecretFlags refuses a secret given as a flag value, saying how to
// pass it instead. It runs before anything else so the advice comes first.
// The flags exist (hidden) for this message only.
func refuseSecretFlags(flags *pflag.FlagSet) error {
	for _, c := range []struct{ flag, env string }{
		{"aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"},
		{"aws-session-token", "AWS_SESSION_TOKEN"},
	} {
		if flags.Changed(c.flag) {
			return fmt.Errorf("--%s: a secret is not accepted as a flag value (a command line shows in every user's process list and in shell history); set %s in the environment or pass --%s-file PATH",
				c.flag, c.env, c.flag)
		}
	}
	return nil
}

// awsCredentials returns the re-signing credentials (see the command's
// help for where each part comes from), or nil if none are given. Secrets
// are read from the environment or from files, never from flag values.
// Messages never quote a secret. warnf receives the warning about a secret
// file others can read.
func (f *recordFlags) awsCredentials(warnf func(string, ...any)) (*aws.Credentials, error) {
	akid := f.akid
	if akid == "" {
		akid = os.Getenv("AWS_ACCESS_KEY_ID")
	}
	var secret, session string
	var err error
	if f.secretFile != "" {
		if secret, err = readSecretFile("--aws-secret-access-key-file", f.secretFile, warnf); err != nil {
			return nil, err
		}
	} else {
		secret = os.Getenv("AWS_SECRET_ACCESS_KEY")
		// A session token belongs to its key pair: take the environment's
		// only with the environment's secret.
		session = os.Getenv("AWS_SESSION_TOKEN")
	}
	if f.sessionFile != "" {
		if secret == "" {
			return nil, errors.New("--aws-session-token-file needs a secret access key: set AWS_SECRET_ACCESS_KEY or pass --aws-secret-access-key-file")
		}
		if session, err = readSecretFile("--aws-session-token-file", f.sessionFile, warnf); err != nil {
			return nil, err
		}
	}
	switch {
	case akid == "" && secret == "":
		return nil, nil
	case akid == "":
		return nil, errors.New("a secret access key needs its access key id: pass --aws-access-key-id or set AWS_ACCESS_KEY_ID")
	case secret == "":
		return nil, errors.New("--aws-access-key-id needs its secret access key: set AWS_SECRET_ACCESS_KEY or pass --aws-secret-access-key-file PATH")
	}
	return &aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: session}, nil
}

// maxSecretFile bounds a secret file: AWS secrets and session tokens are a
// few KB at most, and a mistaken path (/dev/zero) must not eat memory.
const maxSecretFile = 64 << 10

// readSecretFile reads a secret from path (a regular file, or a pipe such
// as the shell's <(command)), trimmed of surrounding whitespace. It warns
// when group or others may read a regular file: the secret is then no
// better kept than on the command line.
func readSecretFile(flag, path string, warnf func(string, ...any)) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	switch {
	case st.IsDir():
		return "", fmt.Errorf("%s: %s is a directory, not a file holding the secret", flag, path)
	case st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0:
		warnf("warning: %s %s can be read by group or others (mode %s); chmod 600 it", flag, path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s: %s is larger than %d KiB: not a secret file", flag, path, maxSecretFile>>10)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("%s: %s is empty", flag, path)
	}
	return secret, nil
}

func runRecord(cmd *cobra.Command, f *recordFlags) error {
	if err := refuseSecretFlags(cmd.Flags()); err != nil {
		return usageError{err}
	}
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
	errOut := cmd.ErrOrStderr()
	creds, err := f.awsCredentials(func(format string, args ...any) {
		fmt.Fprintf(errOut, "mcbench record: "+format+"\n", args...)
	})
	if err != nil {
		return usageError{err}
	}
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
