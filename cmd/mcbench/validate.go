package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/scenarios"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "validate SCENARIO...",
		Short: "Check scenario files and report every problem with its line and column",
		Long: `Load each scenario (a YAML file, or the name of an embedded scenario such as
"demo") the way sim and load do, and report every problem found, one per line:

  FILE:LINE:COL: FIELD.PATH: message

Exit status 2 if any scenario is invalid, so it can gate CI.`,
		Example: `  mcbench validate my-scenario.yaml
  mcbench validate scenarios/library/*.yaml demo`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("validate needs at least one scenario file or library name")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.OutOrStdout(), cmd.ErrOrStderr(), args)
		},
	})
}

// runValidate checks each scenario, printing a summary line for a valid one
// on out and each problem of an invalid one on errOut.
func runValidate(out, errOut io.Writer, args []string) error {
	bad := 0
	for _, arg := range args {
		s, err := scenarios.Open(arg)
		if err != nil {
			bad++
			var errs scenarios.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					fmt.Fprintln(errOut, e)
				}
			} else {
				fmt.Fprintln(errOut, err)
			}
			continue
		}
		fmt.Fprintf(out, "%s: ok (%s, %s, %s, %s)\n", arg,
			plural(len(s.Providers), "provider"), plural(len(s.Deployments), "deployment"),
			plural(len(s.Workloads), "workload"), plural(len(s.Strategies), "strategy"))
	}
	if bad > 0 {
		// The problems are printed above; the error only summarises.
		return usageError{fmt.Errorf("%d of %s invalid", bad, plural(len(args), "scenario"))}
	}
	return nil
}

// plural formats a count with a noun: "1 strategy", "2 strategies".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(noun) > 1 && noun[len(noun)-1] == 'y' {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
