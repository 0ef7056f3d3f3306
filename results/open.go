package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mcbench/mcbench/scenarios"
)

// A run directory is input like any other: it may come from elsewhere, and
// a report must not be tricked into reading, or hanging on, something that
// is not one of its files. OpenRunFile is the one way its files are
// opened, and its rules are:
//
//   - a symbolic link is followed only to a file inside the run directory
//     (a report must not publish /etc/passwd or another run's records);
//   - a symbolic link loop, or a link to nothing, says so (instead of "has
//     no summary.json");
//   - only regular files are read: a directory, a named pipe (FIFO), a
//     device or a socket is refused without reading it, so a report never
//     blocks on a pipe nobody writes to; the mode is checked before the
//     file is opened, the file is opened non-blocking, and the mode is
//     checked again on the open file (the path may have changed between).
//
// Its refusals are *scenarios.FieldError naming the file, so the CLI
// reports them as the user's problem (exit 2).

// OpenRunFile opens path, a file directly inside a run directory, for
// reading under the rules above. A file that does not exist gives an error
// satisfying errors.Is(err, fs.ErrNotExist).
func OpenRunFile(path string) (*os.File, error) {
	real, err := checkRunFile(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, runFileError(path, err)
	}
	st, err := f.Stat()
	if err == nil {
		err = refuseIrregular(path, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkRunFile applies the rules to path without opening it and returns
// the path to open (the link's target for a symbolic link).
func checkRunFile(path string) (string, error) {
	lst, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", runFileError(path, err)
	}
	if lst.Mode()&fs.ModeSymlink == 0 {
		return path, refuseIrregular(path, lst.Mode())
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return "", &scenarios.FieldError{File: path, Msg: "a symbolic link loop: following it never reaches a file"}
	case errors.Is(err, fs.ErrNotExist):
		dest, _ := os.Readlink(path)
		return "", &scenarios.FieldError{File: path, Msg: fmt.Sprintf("a symbolic link to %s, which does not exist", dest)}
	case err != nil:
		return "", runFileError(path, err)
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", runFileError(path, err)
	}
	root, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return "", runFileError(path, err)
	}
	if !within(root, target) {
		return "", &scenarios.FieldError{File: path, Msg: fmt.Sprintf(
			"a symbolic link to %s, outside the run directory: refusing to read through it (copy the file into the run directory if it belongs there)", target)}
	}
	return target, refuseIrregular(path, st.Mode())
}

// within reports whether path lies inside dir (both cleaned and free of
// symbolic links).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// refuseIrregular refuses anything but a regular file, saying what it is.
func refuseIrregular(path string, m fs.FileMode) error {
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0:
		what = "a device"
	default:
		what = "of mode " + m.String()
	}
	return &scenarios.FieldError{File: path, Msg: "is " + what + ", not a regular file: refusing to read it"}
}

// runFileError names the file once: a *fs.PathError already says
// "open PATH: ...", which would double the prefix.
func runFileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &scenarios.FieldError{File: path, Msg: err.Error()}
}
