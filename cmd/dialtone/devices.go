package main

import (
	"encoding/json"
	"fmt"

	"github.com/dialtone/dialtone/audio/portaudio"
)

type devicesCmd struct{}

// Run lists PortAudio's devices, marking the defaults.
func (devicesCmd) Run(e *env) error {
	b, err := portaudio.New(e.log)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("sound devices: %w", err)}
	}
	defer b.Close()
	devs, err := b.Devices()
	if err != nil {
		return fmt.Errorf("sound devices: %w", err)
	}
	for _, d := range devs {
		if e.cli.JSON {
			line, _ := json.Marshal(map[string]any{
				"event": "device", "time": stamp(nowFunc()), "index": d.Index, "name": d.Name, "host_api": d.HostAPI,
				"inputs": d.MaxInputs, "outputs": d.MaxOutputs, "default_input": d.DefaultInput,
				"default_output": d.DefaultOutput, "default_rate": d.DefaultRate,
			})
			fmt.Fprintf(e.stdout, "%s\n", line)
			continue
		}
		mark := ""
		if d.DefaultInput {
			mark += " [default input]"
		}
		if d.DefaultOutput {
			mark += " [default output]"
		}
		fmt.Fprintf(e.stdout, "%3d  %-40s %-6s in:%d out:%d %.0f Hz%s\n", d.Index, d.Name, d.HostAPI, d.MaxInputs, d.MaxOutputs, d.DefaultRate, mark)
	}
	return nil
}
