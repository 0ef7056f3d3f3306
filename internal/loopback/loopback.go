// Package loopback opens the TCP listeners of mcbench's local services (the
// fakes, the recording proxy, the load test's Prometheus endpoint) on
// loopback unless the user opts in to every interface with --listen-any:
// they are test tooling, not services to expose to a network by accident.
package loopback

import (
	"errors"
	"fmt"
	"net"
)

// ErrNotLoopback is returned (wrapped, with the address) for a host that
// is not loopback when listening anywhere was not allowed.
var ErrNotLoopback = errors.New("refusing to listen on a non-loopback address (pass --listen-any to allow it)")

// Resolve checks addr ("host:port") and returns the address to listen on.
// A bare ":port" means 127.0.0.1:port unless allowAny is set, when it keeps
// its usual meaning (every interface). Any other host must be loopback
// ("localhost", 127.0.0.0/8, ::1) unless allowAny is set.
func Resolve(addr string, allowAny bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	switch {
	case allowAny || IsLoopback(host):
		return addr, nil
	case host == "":
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	return "", fmt.Errorf("%q: %w", addr, ErrNotLoopback)
}

// Listen opens a TCP listener on the address Resolve gives.
func Listen(addr string, allowAny bool) (net.Listener, error) {
	a, err := Resolve(addr, allowAny)
	if err != nil {
		return nil, err
	}
	return net.Listen("tcp", a)
}

// IsLoopback reports whether host names the loopback interface.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
