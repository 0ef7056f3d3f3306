package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// interruptContext is cancelled by the first SIGINT or SIGTERM, which asks
// the run to stop and write what it measured. The signals are then handed
// back to their default action, so a second Ctrl-C ends the process at
// once (the files on disk stay readable: every one is written atomically,
// and `mcbench report` reads a run killed mid-write).
func interruptContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// interrupted is the error a run stopped by a signal returns once its
// results are written: it makes main exit with exitInterrupted.
func interrupted(msg string) error {
	return exitCodeError{code: exitInterrupted, err: errors.New(msg)}
}
