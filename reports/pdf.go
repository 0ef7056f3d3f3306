package reports

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// FormatPDF is the report printed to PDF by headless Chromium from the
// HTML page. It is not in Formats: Document.Write does not produce it,
// PrintPDF does, and only where a Chromium is installed.
const FormatPDF = "pdf"

// ChromiumNames are the programs FindChromium looks for on PATH, in order.
var ChromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ErrNoChromium is FindChromium's error when no browser was found.
var ErrNoChromium = errors.New("no headless Chromium found (looked for " + strings.Join(ChromiumNames, ", ") + " on PATH)")

// FindChromium returns the browser to print with: path when it is set (a
// name on PATH or a file), else the first of ChromiumNames on PATH.
func FindChromium(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("chromium %q: %w", path, err)
		}
		return p, nil
	}
	for _, n := range ChromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// The printed page: A4 (the paper of the EU regulators the report is also
// written for; a Letter reader can print the HTML), 12 mm margins. The
// print stylesheet is written for this content width.
const (
	pdfPaperWidthIn  = 8.27
	pdfPaperHeightIn = 11.69
	pdfMarginIn      = 12 / 25.4
)

// PrintContentWidthPx is the width of the printed page's content box in
// CSS pixels (96 per inch): what a table must fit in not to be cut.
func PrintContentWidthPx() int64 {
	return cssPixels(pdfPaperWidthIn - 2*pdfMarginIn)
}

// cssPixels is a length in inches in whole CSS pixels, rounded down.
func cssPixels(inches float64) int64 { return int64(inches * 96) }

// chromiumPage is one headless Chromium tab that has loaded a file, with
// every console message, uncaught exception and browser-log entry it
// produced.
type chromiumPage struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	msgs   []string
}

// openPage starts bin headless and loads the file. The caller must Close
// the page. The report runs no script and loads nothing, so the sandbox
// (which fails as root in containers) adds no protection and is off.
func openPage(ctx context.Context, bin, file string) (*chromiumPage, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	p := &chromiumPage{}
	tctx, tcancel := chromedp.NewContext(actx, chromedp.WithListener(p.record))
	p.ctx = tctx
	p.cancel = func() { tcancel(); acancel() }
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	if err := chromedp.Do(tctx, chromedp.Navigate(u.String())); err != nil {
		p.Close()
		return nil, chromiumError(ctx, bin, "loading "+file, err)
	}
	return p, nil
}

// record keeps the events that are console output. It runs on the tab's
// reader goroutine, in the order the browser sent them.
func (p *chromiumPage) record(ev any) {
	var m string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range e.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, strings.Trim(string(a.Value), `"`))
			}
		}
		m = fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		m = "exception: " + d.Text
		if d.Exception != nil {
			m += " " + d.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		m = fmt.Sprintf("%s (%s): %s", e.Entry.Level, e.Entry.Source, e.Entry.Text)
		if e.Entry.URL != "" {
			m += " at " + e.Entry.URL
		}
	default:
		return
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
}

// Console returns the messages so far. It makes a round trip first: the
// tab handles the browser's messages in order, so every event sent before
// the answer has been recorded.
func (p *chromiumPage) Console() ([]string, error) {
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[int]("0")); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.msgs...), nil
}

// EmulatePrint lays the page out as it is printed: print media, at the
// printed page's content width.
func (p *chromiumPage) EmulatePrint() error {
	return chromedp.Do(p.ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}),
		chromedp.EmulateViewport(PrintContentWidthPx(), cssPixels(pdfPaperHeightIn-2*pdfMarginIn)))
}

// PDF prints the page on A4 with the stylesheet's print rules.
func (p *chromiumPage) PDF() ([]byte, error) {
	return chromedp.Run(p.ctx, chromedp.PrintToPDF(
		chromedp.PDFPaper(chromedp.PaperSize{Width: pdfPaperWidthIn, Height: pdfPaperHeightIn}),
		chromedp.PDFMargin(pdfMarginIn),
		chromedp.PDFPrintBackground(),
		chromedp.PDFOutlineAndTagged(),
		chromedp.PDFStream(),
	))
}

// Close ends the tab and the browser.
func (p *chromiumPage) Close() { p.cancel() }

// PDFTimeout bounds PrintPDF when its context has no deadline: starting
// Chromium, loading the page and printing take a few seconds.
const PDFTimeout = 60 * time.Second

// PrintPDF prints the HTML page htmlPath to pdfPath with the Chromium at
// bin (see FindChromium), on A4. It returns what the page wrote to the
// console: the report runs no script, so any message (a blocked resource,
// a parse error) is worth a warning.
func PrintPDF(ctx context.Context, bin, htmlPath, pdfPath string) (console []string, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithValue(ctx, pdfLimitKey{}, PDFTimeout), PDFTimeout)
		defer cancel()
	}
	p, err := openPage(ctx, bin, htmlPath)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	pdf, err := p.PDF()
	if err != nil {
		return nil, chromiumError(ctx, bin, "printing "+htmlPath+" to PDF", err)
	}
	if console, err = p.Console(); err != nil {
		return nil, chromiumError(ctx, bin, "reading the console", err)
	}
	if err := os.WriteFile(pdfPath, pdf, 0o644); err != nil {
		return console, err
	}
	return console, nil
}

// chromiumError says which step failed, and that the time ran out when it
// did (chromedp reports a bare "context deadline exceeded").
func chromiumError(ctx context.Context, bin, what string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		limit := ""
		if d, ok := ctx.Value(pdfLimitKey{}).(time.Duration); ok {
			limit = " within " + d.String()
		}
		return fmt.Errorf("%s with %s: Chromium did not finish%s: %w", what, bin, limit, err)
	}
	return fmt.Errorf("%s with %s: %w", what, bin, err)
}

// pdfLimitKey carries PrintPDF's time limit to its error messages.
type pdfLimitKey struct{}
