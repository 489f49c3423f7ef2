package system

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/freeagent"
	freeagentsandbox "github.com/commercesync/commercesync/connectors/freeagent/sandbox"
	"github.com/commercesync/commercesync/connectors/netsuite"
	netsuitesandbox "github.com/commercesync/commercesync/connectors/netsuite/sandbox"
	"github.com/commercesync/commercesync/connectors/qbo"
	qbosandbox "github.com/commercesync/commercesync/connectors/qbo/sandbox"
	"github.com/commercesync/commercesync/connectors/sage"
	sagesandbox "github.com/commercesync/commercesync/connectors/sage/sandbox"
	"github.com/commercesync/commercesync/connectors/xero"
	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
)

// platformOrder fixes each sandbox's offset from the first sandbox port, so
// `commercesync dev` prints the same URLs on every start.
var platformOrder = []string{"xero", "qbo", "sage", "netsuite", "freeagent"}

// sandboxAddr is the listen address of the i-th platform's sandbox.
func sandboxAddr(first string, key string) (string, error) {
	if first == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(first)
	if err != nil {
		return "", fmt.Errorf("sandbox address %q: %w", first, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		return net.JoinHostPort(host, "0"), nil
	}
	for i, k := range platformOrder {
		if k == key {
			return net.JoinHostPort(host, strconv.Itoa(p+i)), nil
		}
	}
	return net.JoinHostPort(host, "0"), nil
}

// startPlatforms starts every platform's sandbox with the development OAuth
// client registered for callback, and returns a connector pointed at each.
// With a data folder the sandboxes keep their state in its sandboxes/
// folder, so the tokens the control plane holds stay good across a
// restart; without one they live in memory.
func (s *System) startPlatforms(cfg config, callback string) (map[string]connectors.Connector, error) {
	conns := map[string]connectors.Connector{}
	dir := ""
	if cfg.dataDir != "" {
		dir = filepath.Join(cfg.dataDir, "sandboxes")
	}
	started := func(key, url string, shutdown func(context.Context) error, err error) error {
		if err != nil {
			return fmt.Errorf("start the %s sandbox: %w", key, err)
		}
		s.closers = append(s.closers, func() { _ = shutdown(context.Background()) })
		s.SandboxURL[key] = url
		return nil
	}

	addr, err := sandboxAddr(cfg.sandboxAddr, "xero")
	if err != nil {
		return nil, err
	}
	s.Xero = xerosandbox.New(append([]xerosandbox.Option{
		xerosandbox.WithClock(cfg.now), xerosandbox.WithDataDir(dir),
		xerosandbox.WithClient(xerosandbox.Client{ID: devClientID, Secret: devClientSecret, Name: "commercesync (development)", RedirectURIs: []string{callback}}),
	}, cfg.sandboxOpts...)...)
	url, shutdown, err := s.Xero.Start(addr)
	if err := started("xero", url, shutdown, err); err != nil {
		return nil, err
	}
	conns["xero"] = xero.New(xero.WithClientID(devClientID), xero.WithClientSecret(devClientSecret), xero.WithSandboxBase(url), xero.WithLogger(cfg.log))

	if addr, err = sandboxAddr(cfg.sandboxAddr, "freeagent"); err != nil {
		return nil, err
	}
	s.FreeAgent = freeagentsandbox.New(
		freeagentsandbox.WithClock(cfg.now), freeagentsandbox.WithDataDir(dir),
		freeagentsandbox.WithClient(freeagentsandbox.Client{ID: devClientID, Secret: devClientSecret, Name: "commercesync (development)", RedirectURIs: []string{callback}}),
	)
	url, shutdown, err = s.FreeAgent.Start(addr)
	if err := started("freeagent", url, shutdown, err); err != nil {
		return nil, err
	}
	conns["freeagent"] = freeagent.New(freeagent.WithClientID(devClientID), freeagent.WithClientSecret(devClientSecret), freeagent.WithSandboxBase(url), freeagent.WithLogger(cfg.log))

	if addr, err = sandboxAddr(cfg.sandboxAddr, "qbo"); err != nil {
		return nil, err
	}
	s.QBO = qbosandbox.New(
		qbosandbox.WithClock(cfg.now), qbosandbox.WithDataDir(dir),
		qbosandbox.WithClient(qbosandbox.Client{ID: devClientID, Secret: devClientSecret, Name: "commercesync (development)", RedirectURIs: []string{callback}}),
	)
	url, shutdown, err = s.QBO.Start(addr)
	if err := started("qbo", url, shutdown, err); err != nil {
		return nil, err
	}
	conns["qbo"] = qbo.New(qbo.WithClientID(devClientID), qbo.WithClientSecret(devClientSecret), qbo.WithSandboxBase(url), qbo.WithLogger(cfg.log))

	if addr, err = sandboxAddr(cfg.sandboxAddr, "sage"); err != nil {
		return nil, err
	}
	s.Sage = sagesandbox.New(
		sagesandbox.WithClock(cfg.now), sagesandbox.WithDataDir(dir),
		sagesandbox.WithClient(sagesandbox.Client{ID: devClientID, Secret: devClientSecret, Name: "commercesync (development)", RedirectURIs: []string{callback}}),
	)
	url, shutdown, err = s.Sage.Start(addr)
	if err := started("sage", url, shutdown, err); err != nil {
		return nil, err
	}
	conns["sage"] = sage.New(sage.WithClientID(devClientID), sage.WithClientSecret(devClientSecret), sage.WithSandboxBase(url), sage.WithLogger(cfg.log))

	if addr, err = sandboxAddr(cfg.sandboxAddr, "netsuite"); err != nil {
		return nil, err
	}
	s.NetSuite = netsuitesandbox.New(
		netsuitesandbox.WithClock(cfg.now), netsuitesandbox.WithDataDir(dir),
		netsuitesandbox.WithClient(netsuitesandbox.Client{ID: devClientID, Secret: devClientSecret, Name: "commercesync (development)", RedirectURIs: []string{callback}}),
	)
	url, shutdown, err = s.NetSuite.Start(addr)
	if err := started("netsuite", url, shutdown, err); err != nil {
		return nil, err
	}
	conns["netsuite"] = netsuite.New(netsuite.WithClientID(devClientID), netsuite.WithClientSecret(devClientSecret),
		netsuite.WithAccountID(netsuitesandbox.DefaultAccountID), netsuite.WithSandboxBase(url), netsuite.WithLogger(cfg.log))
	return conns, nil
}
