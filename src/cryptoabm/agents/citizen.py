"""Citizens: households and merchants on a social network.

Each citizen can be inspected as a Mesa agent (:class:`Citizen`, created on first use of
``model.citizens``), but their state lives in the arrays of :class:`Population`, one entry per
citizen, so that each monthly rule runs for the whole population at once. The month, in order:

1. ``adopt_wallets``       Bass-type hazard: innovation p plus imitation q x share of active contacts
2. ``pay_bonuses``         new adopters collect the wallet bonus while the budget lasts
3. ``use_wallets``         active holders pay in crypto where the regime and merchants allow,
                           hold it as a store of value, and spend down their bonus
4. ``move_savings_abroad`` holders send part of their savings abroad (capital flight)
5. ``drop_out``            holders with no bonus left and no use this month may stop
6. ``review_acceptance``   merchants decide whether to accept crypto
7. ``save_income``         households add part of their income to savings

Wallet states: no wallet; wallet held but dormant; active (using it). Imitation reads the
active contacts at the start of the month, so everyone updates together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from cryptoabm.config import Scenario
from cryptoabm.network import active_neighbour_share, adjacency, contact_counts, contact_weights
from cryptoabm.rules.citizens import (
    INSTANT_CONVERSION,
    adoption_hazard,
    bonus_spending_usd,
    capital_flight_probability,
    crypto_outflow_usd,
    crypto_payment_probability,
    dropout_probability,
    innovation_rate,
    merchant_accepts,
    merchant_net_benefit,
    monthly_saving_usd,
    trust_factor,
)

if TYPE_CHECKING:
    from cryptoabm.model import CryptoEconomy

ACCOUNT = "households"
# decisions every citizen draws for each month, whatever the policy: adopt, pay, hold, flee, drop out
CITIZEN_DECISIONS = 5


class Population:
    """The state of every citizen as arrays (index i is citizen i), and the monthly rules."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, network_rng: np.random.Generator):
        people = scenario.population
        n = people.citizens
        self.size = n
        # Each simulated citizen stands for this many adults: shares are unaffected, and
        # every money flow (bonuses, savings, capital flight) is scaled up to the nation.
        self.people_per_citizen = people.people_per_citizen
        self.income_usd_per_month = people.income_median_usd_per_month * np.exp(people.income_log_sd * rng.standard_normal(n))
        self.trust = np.clip(people.trust_mean + people.trust_sd * rng.standard_normal(n), 0.0, 1.0)
        self.has_internet = rng.random(n) < people.internet_access_share
        self.is_merchant = rng.random(n) < people.merchant_share
        self.merchants = np.flatnonzero(self.is_merchant)  # their indices
        self.complies_with_mandate = self.is_merchant & (rng.random(n) < scenario.merchants.legal_tender_compliance)
        # some citizens would find a lasting use for a wallet (remittances, savings abroad)
        self.has_lasting_use = rng.random(n) < scenario.adoption.lasting_use_share
        self.savings_usd = self.income_usd_per_month * people.savings_months_of_income
        self.bonus_left_usd = np.zeros(n)
        self.bonus_spend_usd_per_month = np.zeros(n)
        self.bonuses_outstanding = False  # anyone with bonus left to spend (skips the spending rule)
        self.has_wallet = np.zeros(n, dtype=bool)
        self.is_active = np.zeros(n, dtype=bool)
        self.accepts_crypto = np.zeros(n, dtype=bool)
        self.paid_in_crypto = np.zeros(n, dtype=bool)
        self.trust_multiplier = trust_factor(self.trust, people.trust_mean, scenario.adoption.trust_elasticity)
        self.adjacency = adjacency(people.network, n, people.mean_degree, people.rewiring_probability, network_rng)
        self.degree = contact_counts(self.adjacency, n)
        self.contact_weight = contact_weights(self.degree)
        self.saving_usd_per_month = monthly_saving_usd(self.income_usd_per_month, people.saving_rate)  # incomes are fixed
        self.total_saving_usd_per_month = float(self.saving_usd_per_month.sum())
        # One uniform draw per citizen per decision each month, and one per merchant for the
        # acceptance review (single precision: resolution 6e-8, far below any probability in
        # the model, at half the cost of double precision).
        self.monthly_draws = np.empty((CITIZEN_DECISIONS, n), dtype=np.float32)
        self.merchant_draws = np.empty(self.merchants.size, dtype=np.float32)
        # this month's outcomes, for the indicators
        self.new_adopters = 0
        self.bonus_outlay_usd = 0.0
        self.capital_flight_usd = 0.0

    # -- shares the rest of the model reads --------------------------------------------
    @property
    def wallet_share(self) -> float:
        return float(np.count_nonzero(self.has_wallet)) / self.size

    @property
    def active_share(self) -> float:
        return float(np.count_nonzero(self.is_active)) / self.size

    @property
    def merchant_accept_share(self) -> float:
        merchants = self.merchants.size
        return float(np.count_nonzero(self.accepts_crypto[self.merchants])) / merchants if merchants else 0.0

    @property
    def crypto_payment_share(self) -> float:
        """Share of citizens who paid for something in crypto this month."""
        return float(np.count_nonzero(self.paid_in_crypto)) / self.size

    def household_wealth_usd(self) -> float:
        """Savings plus unspent bonuses of all the adults represented: what the households'
        ledger account should hold, USD."""
        return float(self.savings_usd.sum() + self.bonus_left_usd.sum()) * self.people_per_citizen

    def bonus_eligible(self, policy) -> np.ndarray:
        """Who may claim the wallet bonus (everyone, or those under the income ceiling)."""
        if policy.bonus_eligible_max_income_usd_per_month is None:
            return np.ones(self.size, dtype=bool)
        return self.income_usd_per_month <= policy.bonus_eligible_max_income_usd_per_month

    def neighbours_of(self, index: int) -> np.ndarray:
        """Indices of a citizen's contacts (everyone else in a well-mixed population)."""
        if self.adjacency is None:
            return np.delete(np.arange(self.size), index)
        row = self.adjacency
        return row.indices[row.indptr[index] : row.indptr[index + 1]]

    # -- the month ------------------------------------------------------------------------
    def step(self, model: CryptoEconomy) -> None:
        """Apply the monthly rules in order to every citizen at once."""
        rng = model.streams.citizens
        # The same draws every month, whatever the policy: keeps the random numbers aligned
        # across policies (common random numbers).
        draws = rng.random(dtype=np.float32, out=self.monthly_draws)
        merchant_draws = rng.random(dtype=np.float32, out=self.merchant_draws)
        online = self.has_internet & (not model.internet_down)
        active_contacts = active_neighbour_share(self.adjacency, self.contact_weight, self.is_active)

        new = self.adopt_wallets(model, active_contacts, online, draws[0])
        self.pay_bonuses(model, new, model.streams.bonuses)
        used = self.use_wallets(model, online, draws[1], draws[2])
        used |= self.move_savings_abroad(model, online, draws[3])
        self.drop_out(model, used, draws[4])
        self.review_acceptance(model, active_contacts, merchant_draws)
        self.save_income(model)

    def adopt_wallets(self, model: CryptoEconomy, active_contacts: np.ndarray, online: np.ndarray,
                      draw: np.ndarray) -> np.ndarray:
        """Citizens without a wallet adopt with the Bass hazard; adopters start active."""
        adoption = model.config.adoption
        policy = model.state.policy
        bonus_on_offer = model.state.bonus_on_offer()
        innovation = innovation_rate(adoption.innovation_p, bonus_on_offer,
                                     adoption.bonus_innovation_multiplier, policy.information_control)
        if bonus_on_offer and policy.bonus_eligible_max_income_usd_per_month is not None:
            # only those who can claim the bonus are drawn in by it
            without = innovation_rate(adoption.innovation_p, False, adoption.bonus_innovation_multiplier,
                                      policy.information_control)
            innovation = np.where(self.bonus_eligible(policy), innovation, without)
        hazard = adoption_hazard(innovation, adoption.imitation_q, active_contacts, self.trust_multiplier, online)
        new = ~self.has_wallet & (draw < hazard)
        self.has_wallet |= new
        self.is_active |= new
        self.new_adopters = int(np.count_nonzero(new))
        return new

    def pay_bonuses(self, model: CryptoEconomy, new: np.ndarray, rng: np.random.Generator) -> None:
        """Eligible new adopters receive the bonus; when the budget runs short, a random
        subset of them is paid (drawn from the run's own ``bonuses`` stream)."""
        policy = model.state.policy
        self.bonus_outlay_usd = 0.0
        if not model.state.bonus_on_offer():
            return
        candidates = np.flatnonzero(new & self.bonus_eligible(policy))
        affordable = model.state.bonuses_affordable(self.people_per_citizen)
        if candidates.size > affordable:
            candidates = np.sort(rng.choice(candidates, size=affordable, replace=False))
        self.bonus_left_usd[candidates] += policy.wallet_bonus_usd
        self.bonuses_outstanding = self.bonuses_outstanding or candidates.size > 0
        self.bonus_spend_usd_per_month[candidates] = policy.wallet_bonus_usd / model.config.adoption.bonus_spend_months
        self.bonus_outlay_usd = model.state.pay_bonuses(candidates.size, self.people_per_citizen)

    def use_wallets(self, model: CryptoEconomy, online: np.ndarray, pay_draw: np.ndarray,
                    hold_draw: np.ndarray) -> np.ndarray:
        """Active holders pay in crypto when allowed and a merchant accepts, or find holding
        worthwhile; the bonus is spent down either way (paid out or cashed in)."""
        adoption = model.config.adoption
        policy = model.state.policy
        p_pay = crypto_payment_probability(policy.payment_regime, self.merchant_accept_share,
                                           adoption.payment_propensity, adoption.government_fee_month_probability)
        self.paid_in_crypto = self.is_active & online & (pay_draw < p_pay)
        holds = self.is_active & (hold_draw < adoption.store_of_value_share)
        if self.bonuses_outstanding:
            spent = bonus_spending_usd(self.bonus_left_usd, self.bonus_spend_usd_per_month) * self.is_active
            self.bonus_left_usd -= spent
            model.ledger.transfer("household_spending", ACCOUNT, "domestic_economy",
                                  float(spent.sum()) * self.people_per_citizen)
            self.bonuses_outstanding = bool(self.bonus_left_usd.any())
        return self.paid_in_crypto | holds

    def move_savings_abroad(self, model: CryptoEconomy, online: np.ndarray, draw: np.ndarray) -> np.ndarray:
        """Wallet holders who are online move part of their savings abroad through crypto;
        a dormant holder who does so is using the wallet again."""
        flight = model.config.capital_flight
        policy = model.state.policy
        p_flee = capital_flight_probability(flight.monthly_probability, policy.capital_controls, flight.controls_multiplier)
        fleeing = self.has_wallet & online & (draw < p_flee)
        amounts = crypto_outflow_usd(self.savings_usd[fleeing], flight.share_of_savings,
                                     policy.crypto_outflow_limit_usd_per_month, flight.p2p_leakage_share)
        self.savings_usd[fleeing] -= amounts
        self.is_active |= fleeing
        self.capital_flight_usd = float(amounts.sum()) * self.people_per_citizen
        model.ledger.transfer("capital_flight", ACCOUNT, "rest_of_world", self.capital_flight_usd)
        return fleeing

    def drop_out(self, model: CryptoEconomy, used: np.ndarray, draw: np.ndarray) -> None:
        """Active holders with no bonus left and no use this month stop with the drop-out hazard;
        those with a lasting use for the wallet never do."""
        p_drop = dropout_probability(self.bonus_left_usd, used | self.has_lasting_use, model.config.adoption.dropout_hazard)
        self.is_active &= ~(draw < p_drop)

    def review_acceptance(self, model: CryptoEconomy, active_contacts: np.ndarray, draw: np.ndarray) -> None:
        """Merchants weigh their active customers against fees and volatility. A ban or a
        legal-tender mandate takes effect at once; otherwise merchants reconsider now and then
        (``draw``: one uniform number per merchant)."""
        merchants_cfg = model.config.merchants
        regime = model.state.policy.payment_regime
        merchants = self.merchants
        net = merchant_net_benefit(active_contacts[merchants], merchants_cfg.sales_gain_per_active_customer_share,
                                   merchants_cfg.processing_fee_share, merchants_cfg.volatility_cost_weight,
                                   model.config.market.price_volatility_annual, INSTANT_CONVERSION[regime])
        complies = self.complies_with_mandate[merchants]
        wanted = merchant_accepts(regime, net, complies)
        reviewing = draw < merchants_cfg.review_probability
        if regime == "ban":
            reviewing[:] = True
        elif regime == "legal_tender":
            reviewing |= complies
        self.accepts_crypto[merchants] = np.where(reviewing, wanted, self.accepts_crypto[merchants])

    def save_income(self, model: CryptoEconomy) -> None:
        """Households add a share of their monthly income to savings (paid from the domestic economy)."""
        self.savings_usd += self.saving_usd_per_month
        model.ledger.transfer("household_saving", "domestic_economy", ACCOUNT,
                              self.total_saving_usd_per_month * self.people_per_citizen)


class Citizen(Agent):
    """One citizen: a Mesa agent whose state is row ``index`` of the population arrays."""

    model: CryptoEconomy

    def __init__(self, model: CryptoEconomy, index: int):
        super().__init__(model)
        self.index = index

    @property
    def _population(self) -> Population:
        return self.model.population

    @property
    def wallet_state(self) -> str:
        """'active', 'wallet' (held but dormant) or 'none'."""
        population = self._population
        if population.is_active[self.index]:
            return "active"
        return "wallet" if population.has_wallet[self.index] else "none"

    @property
    def is_merchant(self) -> bool:
        return bool(self._population.is_merchant[self.index])

    @property
    def accepts_crypto(self) -> bool:
        return bool(self._population.accepts_crypto[self.index])

    @property
    def has_internet(self) -> bool:
        return bool(self._population.has_internet[self.index])

    @property
    def income_usd_per_month(self) -> float:
        return float(self._population.income_usd_per_month[self.index])

    @property
    def trust(self) -> float:
        return float(self._population.trust[self.index])

    @property
    def savings_usd(self) -> float:
        return float(self._population.savings_usd[self.index])

    @property
    def bonus_left_usd(self) -> float:
        return float(self._population.bonus_left_usd[self.index])

    @property
    def contacts(self) -> list[int]:
        """Indices of this citizen's contacts."""
        return self._population.neighbours_of(self.index).tolist()

    def __repr__(self) -> str:
        role = "merchant" if self.is_merchant else "household"
        return f"Citizen({self.index}, {role}, wallet={self.wallet_state}, savings=${self.savings_usd:,.0f})"
