package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Emulator is a running Google Cloud Pub/Sub emulator.
type Emulator struct {
	Host string // host:port, the value for PUBSUB_EMULATOR_HOST
	cmd  *exec.Cmd
	done chan error
}

// ErrNoEmulator explains how to get the emulator when it is missing.
var ErrNoEmulator = errors.New("the Pub/Sub emulator was not found; install it with: sudo apt-get install google-cloud-cli-pubsub-emulator (it needs a Java runtime), or set PUBSUB_EMULATOR_HOST to a running emulator")

// EmulatorPath finds the cloud-pubsub-emulator launcher of the gcloud SDK.
func EmulatorPath() (string, error) {
	candidates := []string{"/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"}
	if g, err := exec.LookPath("gcloud"); err == nil {
		if real, err := filepath.EvalSymlinks(g); err == nil {
			sdk := filepath.Dir(filepath.Dir(real))
			candidates = append(candidates, filepath.Join(sdk, "platform/pubsub-emulator/bin/cloud-pubsub-emulator"))
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			if _, err := exec.LookPath("java"); err != nil {
				return "", ErrNoEmulator
			}
			return c, nil
		}
	}
	return "", ErrNoEmulator
}

// StartEmulator starts the emulator on a free loopback port and waits until it accepts
// connections.
func StartEmulator(ctx context.Context, logFile *os.File) (*Emulator, error) {
	path, err := EmulatorPath()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--host=127.0.0.1", "--port="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pubsub emulator: %w", err)
	}
	e := &Emulator{Host: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan error, 1)}
	go func() { e.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-e.done:
			return nil, fmt.Errorf("pubsub emulator exited during start-up (%v); see its log", err)
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", e.Host, 200*time.Millisecond); err == nil {
			c.Close()
			return e, nil
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, errors.New("pubsub emulator did not listen within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop ends the emulator (the launcher and the JVM, which share a process group).
func (e *Emulator) Stop() {
	if e.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.done
	}
}
