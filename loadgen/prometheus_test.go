package loadgen

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/internal/loopback"
)

// --prometheus-addr :PORT must not listen on every interface (issue 13,
// row 6): a bare port binds 127.0.0.1, and a non-loopback host needs
// --listen-any.
func TestPrometheusListensOnLoopback(t *testing.T) {
	stop, _, addr, err := servePrometheus(":0", false, time.Now())
	require.NoError(t, err)
	defer stop()
	tcp := addr.(*net.TCPAddr)
	assert.True(t, tcp.IP.Equal(net.IPv4(127, 0, 0, 1)), "listening on %s", addr)

	resp, err := http.Get("http://" + addr.String() + "/metrics")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	_, _, _, err = servePrometheus("0.0.0.0:0", false, time.Now())
	require.Error(t, err)
	assert.True(t, errors.Is(err, loopback.ErrNotLoopback))
	assert.Contains(t, err.Error(), "--prometheus-addr")
	assert.Contains(t, err.Error(), "--listen-any")

	stop2, _, addr2, err := servePrometheus("0.0.0.0:0", true, time.Now())
	require.NoError(t, err)
	defer stop2()
	assert.True(t, addr2.(*net.TCPAddr).IP.IsUnspecified(), "--listen-any keeps 0.0.0.0: %s", addr2)
}
