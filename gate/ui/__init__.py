"""The gate's Kivy screens: they draw `gate.flows.gate_flow.GateFlow` and forward touches, nothing more.
Import only after `terminal.kivy_setup.prepare()`."""
