"""A virtual TCP-9100 ESC/POS printer: parses what we send, renders each job to PNG, answers DLE EOT."""

from devices.printing.virtual.interpreter import Interpreter, Job
from devices.printing.virtual.server import JobRecord, VirtualPrinter
from devices.printing.virtual.status import PrinterState, status_reply

__all__ = ["Interpreter", "Job", "JobRecord", "PrinterState", "VirtualPrinter", "status_reply"]
