"""Renovation (二次装修, DOMAIN.md R-REN), as the manual's flow chart 《二次装修流程图》 has it, one rule id a step:

- R-REN-1: the owner applies; the CS centre receives the application (unit, owner, contractor, works, period).
- R-REN-2: engineering approves or rejects it **within 3 working days** of its receipt (the estate's working-day
  calendar); an application still waiting after that is late and escalated once.
- R-REN-3: the CS centre notifies the owner of engineering's decision.
- R-REN-4: the owner signs the renovation agreement (签约) at the desk.
- R-REN-5: the fees and the deposit are paid to finance, which records the receipt; only then may works start.
- R-REN-6: the CS centre issues temporary passes (临时出入证) to the workers, valid for the renovation's period and
  only while it runs: a pass is refused at the gate before its first day, after the renovation's end and while the
  renovation is suspended; every entry and exit is logged.
- R-REN-7: the owner may apply for an extension; the end moves and the workers' passes are issued again.
- R-REN-8: the owner applies for completion acceptance; the inspection is booked; engineering accepts the works.
- R-REN-9: the deposit is refunded (and tax settled) **10 working days after acceptance**, tracked until finance pays.
"""
