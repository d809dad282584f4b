"""The article scenario (scenarios/kursk-atacms-2024.yaml) written by hand on simpy: the yardstick.

What a modeller would write without `escalate`: one ``simpy.Environment`` per
replication, one callback per event, the state in plain attributes, the
point values of the parameters as constants, cancels by flagging pending
timeouts.  It records what a run needs (outcome times, maximum level,
terminal) and draws from a stream per replication, keyed like the reference
engine's, so that both pay for reproducible, independent replications.  The
benchmarks compare the reference engine's speed with this model's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy

from escalate.montecarlo.seeding import replication_rng

HORIZON = 365.0
MAX_EVENTS = 2000
# parameters at their point values (days for durations)
FIRST_SALVO, FIRST_CLAIMED_DOWN = 6.0, 5.0
NK_TROOPS, RECRUITS_PER_MONTH = 10_000.0, 30_000.0
INCENTIVE, KURSK_EFFECT, NK_DETERRENCE, TRUMP_DRAG = 1.0, 1.1, 0.85, 0.85
DECISION_DELAY, RECONSIDER = 4.0, 45.0
P_INTENSIFY, P_ARM, P_HUB, P_US_FACILITY = 0.30, 0.03, 0.005, 0.0015
STRIKE_PREPARATION, SIGNAL_LEAD = 7.0, 3.0
CONSULTATION_DELAY, NATO_RESPONSE_DELAY, P_NATO_MILITARY = 2.0, 5.0, 0.25
US_RESPONSE_DELAY, P_US_RETALIATES = 3.0, 0.5
NUCLEAR_DECISION_DELAY, P_NUCLEAR = 7.0, 0.08
KURSK_RETAKE, NK_DELAY, P_NK, NK_SIZE = 120.0, 60.0, 0.6, 5000.0
WAVE_INTERVAL, PER_WAVE, STOCK, ENERGY_INTERVAL = 21.0, 6.0, 120.0, 14.0
PUSH_LEAD, PUSH_INTERVAL, P_TALKS, KURSK_FACTOR, ESCALATION_FACTOR = 30.0, 30.0, 0.22, 0.3, 0.5
TALKS_DURATION, P_CEASEFIRE = 90.0, 0.35

OUTCOMES = ("nato_territory_strike", "us_facility_strike", "direct_combat", "nuclear_use",
            "energy_strikes", "third_party_arming", "russian_restraint", "nato_consultations",
            "kursk_retaken", "nk_reinforced", "negotiations_begun", "ceasefire", "still_fighting")
EVENT_OUTCOMES = {"strike_weapons_hubs": "nato_territory_strike",
                  "strike_us_facility": "us_facility_strike", "nuclear_use": "nuclear_use",
                  "intensified_strikes": "energy_strikes", "arm_third_parties": "third_party_arming",
                  "restraint": "russian_restraint", "nato_consultations": "nato_consultations",
                  "kursk_retaken": "kursk_retaken", "nk_reinforcement": "nk_reinforced",
                  "negotiations_begin": "negotiations_begun"}


class _Stop(Exception):
    pass


class Replication:
    """One replication of the scenario."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.env = simpy.Environment()
        self.live = 0
        self.pending: dict[str, list[list[bool]]] = {}
        self.count = 0
        self.fired = 0
        self.level = 0
        self.max_level = 0
        self.times: dict[str, float] = {}
        self.terminal = ""
        self.authorized = self.doctrine = self.trump = self.restraint = False
        self.energy = self.armed_third = self.nato_struck = self.us_struck = False
        self.negotiating = False
        self.kursk_held = True
        self.fired_missiles = self.claimed = self.nk_troops = self.recruit_days = 0.0
        self.energy_waves = 0
        self.repeats: dict[str, int] = {}

    # -- scheduling ---------------------------------------------------------------------------

    def schedule(self, name: str, action: Callable[[], None], delay: float) -> None:
        flag = [True]
        self.pending.setdefault(name, []).append(flag)
        self.live += 1

        def fire(_: simpy.Event) -> None:
            if not flag[0]:
                return
            flag[0] = False
            self.live -= 1
            self.pending[name].remove(flag)
            self.count += 1
            if self.count > MAX_EVENTS:
                self.terminal = "max_events"
                raise _Stop
            action()

        self.env.timeout(delay).callbacks.append(fire)

    def cancel(self, *names: str) -> None:
        for name in names:
            for flag in self.pending.get(name, ()):
                flag[0] = False
                self.live -= 1
            self.pending[name] = []

    def occurred(self, name: str) -> None:
        self.fired += 1
        outcome = EVENT_OUTCOMES.get(name)
        if outcome is not None and outcome not in self.times:
            self.times[outcome] = self.env.now
        if self.level >= 6 and "direct_combat" not in self.times:
            self.times["direct_combat"] = self.env.now

    def raise_level(self, level: int) -> None:
        self.level = max(self.level, level)
        self.max_level = max(self.max_level, self.level)

    # -- delays ---------------------------------------------------------------------------------

    def exponential(self, mean: float) -> float:
        return float(self.rng.exponential(mean))

    def lognormal(self, median: float, sigma: float) -> float:
        return float(self.rng.lognormal(math.log(median), sigma))

    def gamma(self, shape: float, mean: float) -> float:
        return float(self.rng.gamma(shape, mean / shape))

    # -- events ----------------------------------------------------------------------------------

    def us_decision(self) -> None:
        self.authorized = True
        self.nk_troops = NK_TROOPS
        self.recruit_days = NK_TROOPS / RECRUITS_PER_MONTH * 30.4375
        self.occurred("us_decision")
        self.schedule("kursk_retaken", self.kursk_retaken,
                      self.lognormal(KURSK_RETAKE * KURSK_EFFECT, 0.5))
        self.schedule("nk_reinforcement_decision", self.nk_decision, self.exponential(NK_DELAY))

    def doctrine_revised(self) -> None:
        self.doctrine = True
        self.occurred("nuclear_doctrine_revised")

    def first_strikes(self) -> None:
        self.raise_level(1)
        self.fired_missiles, self.claimed = FIRST_SALVO, FIRST_CLAIMED_DOWN
        self.occurred("first_atacms_strikes")
        self.schedule("russia_decides", self.russia_decides,
                      self.lognormal(DECISION_DELAY, 0.6))
        self.schedule("atacms_wave", self.atacms_wave, self.exponential(WAVE_INTERVAL))

    def atacms_wave(self) -> None:
        if self.authorized and not self.negotiating and self.fired_missiles + PER_WAVE <= STOCK:
            self.fired_missiles += PER_WAVE
            self.claimed += PER_WAVE * FIRST_CLAIMED_DOWN / FIRST_SALVO
            self.occurred("atacms_wave")
        if not self.negotiating and self.fired_missiles + PER_WAVE <= STOCK:
            self.schedule("atacms_wave", self.atacms_wave, self.exponential(WAVE_INTERVAL))

    def russia_decides(self) -> None:
        if not self.restraint:
            self.occurred("russia_decides")
            u = self.rng.random()
            options = ((P_INTENSIFY * INCENTIVE, "intensified_strikes", self.intensified, None),
                       (P_ARM * INCENTIVE, "arm_third_parties", self.arm, None),
                       (P_HUB * INCENTIVE, "strike_weapons_hubs", self.hub_strike,
                        (2.0, STRIKE_PREPARATION)),
                       (P_US_FACILITY * INCENTIVE, "strike_us_facility", self.us_strike,
                        (2.0, SIGNAL_LEAD)))
            cumulative = 0.0
            for p, name, action, gamma in options:
                cumulative += p
                if u < cumulative:
                    self.schedule(name, action, self.gamma(*gamma) if gamma else 0.0)
                    break
            else:
                self.schedule("restraint", self.restraint_taken, 0.0)
        if not self.negotiating:
            self.schedule("russia_decides", self.russia_decides, self.exponential(RECONSIDER))

    def restraint_taken(self) -> None:
        if not self.trump:
            self.restraint = True
            self.occurred("restraint")

    def intensified(self) -> None:
        if not self.energy:
            self.raise_level(2)
            self.energy = True
            self.occurred("intensified_strikes")
            self.schedule("energy_strike_wave", self.energy_wave, self.gamma(3, ENERGY_INTERVAL))

    def energy_wave(self) -> None:
        if self.energy and not self.negotiating:
            self.energy_waves += 1
            self.occurred("energy_strike_wave")
        if self.energy and not self.negotiating:
            self.schedule("energy_strike_wave", self.energy_wave, self.gamma(3, ENERGY_INTERVAL))

    def arm(self) -> None:
        if not self.armed_third:
            self.raise_level(3)
            self.armed_third = True
            self.occurred("arm_third_parties")

    def hub_strike(self) -> None:
        self.raise_level(4)
        self.nato_struck = True
        self.occurred("strike_weapons_hubs")
        self.schedule("nato_consultations", self.consultations, CONSULTATION_DELAY)

    def us_strike(self) -> None:
        self.raise_level(5)
        self.us_struck = True
        self.occurred("strike_us_facility")
        self.schedule("us_response", self.us_response, self.lognormal(US_RESPONSE_DELAY, 0.5))

    def consultations(self) -> None:
        self.occurred("nato_consultations")
        if self.rng.random() < P_NATO_MILITARY:
            self.schedule("nato_strikes_back", self.nato_strikes_back, NATO_RESPONSE_DELAY)
        else:
            self.schedule("nato_reinforces", lambda: self.occurred("nato_reinforces"),
                          NATO_RESPONSE_DELAY)

    def nato_strikes_back(self) -> None:
        self.raise_level(6)
        self.occurred("nato_strikes_back")
        self.schedule("russia_nuclear_decision", self.nuclear_decision,
                      self.lognormal(NUCLEAR_DECISION_DELAY, 0.6))

    def us_response(self) -> None:
        self.occurred("us_response")
        if self.rng.random() < P_US_RETALIATES:
            self.schedule("us_retaliates", self.us_retaliates, 0.0)
        else:
            self.schedule("us_measured_response", lambda: self.occurred("us_measured_response"),
                          0.0)

    def us_retaliates(self) -> None:
        self.raise_level(6)
        self.occurred("us_retaliates")
        self.schedule("russia_nuclear_decision", self.nuclear_decision,
                      self.lognormal(NUCLEAR_DECISION_DELAY, 0.6))

    def nuclear_decision(self) -> None:
        if self.doctrine:
            self.occurred("russia_nuclear_decision")
            if self.rng.random() < P_NUCLEAR:
                self.schedule("nuclear_use", self.nuclear_use, 0.0)

    def nuclear_use(self) -> None:
        self.level = 7
        self.max_level = 7
        self.occurred("nuclear_use")
        self.terminal = "nuclear_use"
        raise _Stop

    def kursk_retaken(self) -> None:
        self.kursk_held = False
        self.occurred("kursk_retaken")

    def nk_decision(self) -> None:
        self.occurred("nk_reinforcement_decision")
        if self.rng.random() < P_NK * NK_DETERRENCE:
            self.schedule("nk_reinforcement", self.nk_reinforcement, 0.0)

    def nk_reinforcement(self) -> None:
        self.nk_troops += NK_SIZE
        self.occurred("nk_reinforcement")

    def inauguration(self) -> None:
        self.trump, self.restraint = True, False
        self.occurred("inauguration")
        self.schedule("peace_push", self.peace_push, self.gamma(2, PUSH_LEAD))

    def peace_push(self) -> None:
        if not self.negotiating:
            self.occurred("peace_push")
            p = (P_TALKS * TRUMP_DRAG * (KURSK_FACTOR if self.kursk_held else 1.0)
                 * (ESCALATION_FACTOR if self.nato_struck else 1.0))
            if self.rng.random() < p:
                self.schedule("negotiations_begin", self.negotiations_begin, 0.0)
        if not self.negotiating:
            self.schedule("peace_push", self.peace_push, self.exponential(PUSH_INTERVAL))

    def negotiations_begin(self) -> None:
        self.negotiating = True
        self.occurred("negotiations_begin")
        self.cancel("peace_push", "russia_decides", "atacms_wave", "energy_strike_wave",
                    "strike_weapons_hubs", "strike_us_facility")
        self.schedule("talks_outcome", self.talks_outcome, self.gamma(2, TALKS_DURATION))

    def talks_outcome(self) -> None:
        self.occurred("talks_outcome")
        if self.rng.random() < P_CEASEFIRE:
            self.schedule("ceasefire", self.ceasefire, 0.0)
        else:
            self.schedule("talks_collapse", self.talks_collapse, 0.0)

    def ceasefire(self) -> None:
        self.occurred("ceasefire")
        self.terminal = "ceasefire"
        raise _Stop

    def talks_collapse(self) -> None:
        self.negotiating = False
        self.occurred("talks_collapse")
        self.schedule("russia_decides", self.russia_decides, self.lognormal(DECISION_DELAY, 0.6))
        self.schedule("atacms_wave", self.atacms_wave, self.exponential(WAVE_INTERVAL))
        self.schedule("energy_strike_wave", self.energy_wave, self.gamma(3, ENERGY_INTERVAL))
        self.schedule("peace_push", self.peace_push, self.gamma(2, PUSH_LEAD))

    # -- the run ------------------------------------------------------------------------------------

    def run(self) -> tuple[str, int, dict[str, float], int]:
        """Return the terminal, the maximum level, the outcome times and the events fired."""
        self.schedule("us_decision", self.us_decision, 0.0)
        self.schedule("nuclear_doctrine_revised", self.doctrine_revised, 2.0)
        self.schedule("first_atacms_strikes", self.first_strikes, 2.0)
        self.schedule("inauguration", self.inauguration, 64.0)
        env = self.env
        try:
            while True:
                if self.live == 0:
                    self.terminal = "exhausted"
                    break
                if env.peek() >= HORIZON:
                    self.terminal = "horizon"
                    break
                env.step()
        except _Stop:
            pass
        if self.terminal == "ceasefire":
            self.times["ceasefire"] = env.now
        if self.terminal == "horizon":
            self.times["still_fighting"] = HORIZON
        return self.terminal, self.max_level, self.times, self.fired


def run(seed: int, replications: int) -> tuple[dict[str, int], int]:
    """Run replications; return how often each outcome occurred and the events fired."""
    counts = dict.fromkeys(OUTCOMES, 0)
    events = 0
    for index in range(replications):
        _, _, times, fired = Replication(replication_rng(seed, index)).run()
        for outcome in times:
            counts[outcome] += 1
        events += fired
    return counts, events
