package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/backends/profile"
	"github.com/mcbench/mcbench/backends/record"
)

type profileFitFlags struct {
	deployment, out string
}

func init() {
	var f profileFitFlags
	parent := &cobra.Command{
		Use:   "profile",
		Short: "Turn recordings of real calls into latency profiles",
		Long: `Latency profiles are the latency model of one deployment (ttft, per_input_token,
tpot) fitted to a recording made with 'mcbench record'. A scenario's deployment
uses one with:

  latency:
    profile: profiles/my-deployment.yaml   # relative to the scenario file

and the simulator and the fakes then run that model.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	fit := &cobra.Command{
		Use:   "fit RECORDING",
		Short: "Fit a latency profile to a recording",
		Long: `Fit the latency model of one deployment (an Azure deployment or a Bedrock model
id) to the successful streamed calls of a recording:

  TTFT = base + per_input_token × input tokens, base lognormal
  TPOT lognormal, one value per call: (last token − first token) / (tokens − 1)

per_input_token is the least-squares slope (clamped at 0), the lognormals go
through the median and p99 of the data (p99 from the interquartile range when
there are fewer than 100 calls). The profile is printed on stdout (or written
to --out) as YAML with comments saying where it came from; how well the model
fits (R², Kolmogorov-Smirnov distance, quantile errors) is printed on stderr.
load_factor is not fitted: a recording does not show how busy the deployment
was.`,
		Example: `  mcbench profile fit calls.jsonl
  mcbench profile fit calls.jsonl --deployment gpt-4o-eastus2 --out profiles/gpt-4o.yaml
  mcbench profile fit testdata/recordings/example.jsonl --deployment gpt-4o-eastus2`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runProfileFit(cmd, args[0], &f) },
	}
	fit.Flags().StringVar(&f.deployment, "deployment", "", "deployment or model id to fit (required if the recording holds several)")
	fit.Flags().StringVar(&f.out, "out", "", "write the profile to this file instead of stdout")
	parent.AddCommand(fit)
	rootCmd.AddCommand(parent)
}

func runProfileFit(cmd *cobra.Command, path string, f *profileFitFlags) error {
	errOut := cmd.ErrOrStderr()
	calls, truncated, err := record.ReadFile(path)
	if err != nil {
		return usageError{err}
	}
	if truncated {
		fmt.Fprintf(errOut, "mcbench profile fit: %s: the last line is cut short (a recording interrupted mid-write); ignored\n", path)
	}
	name, err := profile.Choose(calls, f.deployment)
	if err != nil {
		if errors.Is(err, profile.ErrNoDeployment) {
			err = fmt.Errorf("%w (pick one with --deployment)", err)
		}
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	fit, err := profile.FitCalls(calls, name)
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	command := []string{"mcbench profile fit", path, "--deployment", name}
	if f.out != "" {
		command = append(command, "--out", f.out)
	}
	doc := fit.YAML(profile.Source{Recording: path, Command: strings.Join(command, " ")})
	d := fit.Deployment
	fmt.Fprintf(errOut, "mcbench profile fit: %s %q: %d of %d calls used (successful streams)\n%s",
		d.Provider, d.Name, d.Usable, d.Calls, fit.Report())
	if f.out == "" {
		_, err = cmd.OutOrStdout().Write(doc)
		return err
	}
	return writeFileAtomic(f.out, doc)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so a reader never sees half a profile.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return usageError{fmt.Errorf("--out: %w", err)}
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
