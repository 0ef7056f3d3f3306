package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --prometheus-addr on a non-loopback host needs --listen-any, like the
// fakes' and the recording proxy's --listen; the refusal is a usage error
// given before any fake starts or any request is sent.
func TestLoadPrometheusAddrLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:9090", "192.0.2.1:9090"} {
		_, _, err := execute(t, "load", "demo", "--strategy", "azure-failover", "--prometheus-addr", addr, "--duration", "1s")
		require.Error(t, err, addr)
		assert.True(t, isUsage(err), "%s: %v", addr, err)
		assert.Contains(t, err.Error(), "--prometheus-addr")
		assert.Contains(t, err.Error(), "non-loopback")
		assert.Contains(t, err.Error(), "--listen-any")
	}
	_, _, err := execute(t, "load", "demo", "--strategy", "azure-failover", "--prometheus-addr", "9090")
	require.Error(t, err)
	assert.True(t, isUsage(err), "%v", err)
	assert.Contains(t, err.Error(), "missing port")
}
