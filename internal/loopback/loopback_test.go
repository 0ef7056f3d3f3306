package loopback

import (
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolve(t *testing.T) {
	for _, c := range []struct {
		addr     string
		any      bool
		want     string
		refused  bool
		badInput bool
	}{
		{addr: ":9090", want: "127.0.0.1:9090"},
		{addr: ":9090", any: true, want: ":9090"},
		{addr: "127.0.0.1:0", want: "127.0.0.1:0"},
		{addr: "127.3.4.5:80", want: "127.3.4.5:80"},
		{addr: "[::1]:80", want: "[::1]:80"},
		{addr: "localhost:80", want: "localhost:80"},
		{addr: "0.0.0.0:9090", refused: true},
		{addr: "[::]:9090", refused: true},
		{addr: "10.1.2.3:9090", refused: true},
		{addr: "example.com:9090", refused: true},
		{addr: "0.0.0.0:9090", any: true, want: "0.0.0.0:9090"},
		{addr: "9090", badInput: true},
	} {
		got, err := Resolve(c.addr, c.any)
		switch {
		case c.refused:
			require.Error(t, err, c.addr)
			assert.True(t, errors.Is(err, ErrNotLoopback), c.addr)
			assert.Contains(t, err.Error(), c.addr)
			assert.Contains(t, err.Error(), "--listen-any")
		case c.badInput:
			require.Error(t, err, c.addr)
			assert.False(t, errors.Is(err, ErrNotLoopback), c.addr)
		default:
			require.NoError(t, err, c.addr)
			assert.Equal(t, c.want, got, c.addr)
		}
	}
}

// A bare ":0" must bind loopback, not every interface (what net.Listen
// would do with it).
func TestListenBarePortIsLoopback(t *testing.T) {
	l, err := Listen(":0", false)
	require.NoError(t, err)
	defer l.Close()
	ip := l.Addr().(*net.TCPAddr).IP
	assert.True(t, ip.Equal(net.IPv4(127, 0, 0, 1)), "listening on %s", l.Addr())

	_, err = Listen("0.0.0.0:0", false)
	assert.ErrorIs(t, err, ErrNotLoopback)
}
