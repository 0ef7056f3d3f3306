package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

func init() {
	var summary bool
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files (or, with --summary, of summary.json)",
		Long: `Print the JSON Schema (draft 2020-12) of scenario files, for editor completion
and CI checks of YAML scenarios (for example with the YAML language server:
"# yaml-language-server: $schema=mcbench.schema.json"). The schema checks
shape and units; "mcbench validate" also checks references and values.

With --summary, print the JSON Schema of summary.json as this build writes it
(schema_version ` + results.CurrentSchema + `), generated from the types that
write it: for scripts and pipelines that consume run directories.`,
		Example: `  mcbench schema > mcbench.schema.json
  mcbench schema --summary > summary.schema.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{errors.New("schema takes no arguments")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			gen := scenarios.JSONSchema
			if summary {
				gen = results.SummaryJSONSchema
			}
			b, err := gen()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(b, '\n'))
			return err
		},
	}
	cmd.Flags().BoolVar(&summary, "summary", false, "print the schema of summary.json instead of scenario files")
	rootCmd.AddCommand(cmd)
}
