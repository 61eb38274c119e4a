"""Citizens: households and merchants on a social network.

Each citizen can be inspected as a Mesa agent (:class:`Citizen`, created on first use of
``model.citizens``), but their state lives in the arrays of :class:`Population`, one entry per
citizen, so that each monthly rule runs for the whole population at once. The month, in order:

1. ``adopt_wallets``       Bass-type hazard: innovation p (times the bonus offer's fading pull,
                           for those whose cost of adopting it covers) plus imitation q x share of
                           active contacts; never-adopters never do; each adopter's lasting use
                           is decided by their bank access and why they adopted
2. ``pay_bonuses``         new adopters collect the bonus on offer while the campaign can pay
                           (``bonuses_paid`` tells the campaign how many)
3. ``use_wallets``         active holders pay in crypto where the regime and merchants allow,
                           hold it as a store of value, and spend down their bonus
4. ``move_savings_abroad`` savers rebalance toward their target foreign share of wealth, through
                           a bank where controls allow or through crypto if they hold a wallet
5. ``receive_remittances`` remittances arrive, some through recipients' wallets
6. ``drop_out``            active holders with no bonus left and no use stop using the wallet;
                           dormant holders may delete it
7. ``review_acceptance``   merchants decide whether to accept crypto
8. ``save_income``         households add part of their income to savings
9. ``record_year_on_retention`` those who downloaded a year ago: still active?

Wallet states: never downloaded; downloaded but deleted; held but dormant; active (used this
month). Imitation reads the active contacts at the start of the month, so everyone updates
together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from cryptoabm.config import Scenario
from cryptoabm.ledger import DOMESTIC_ECONOMY, HOUSEHOLDS, REST_OF_WORLD
from cryptoabm.network import ActiveContacts, active_neighbour_share, adjacency, contact_counts, contact_weights
from cryptoabm.rules.capital_flows import (
    channels_under_policy,
    crypto_outflow_usd,
    crypto_remittance_share,
    crypto_route_cost_share,
    crypto_route_share,
    expected_local_loss_annual,
    licensed_outflow_usd,
    net_gain_from_foreign_assets_annual,
    official_allocation_served_share,
    official_allocation_usd_per_month,
    official_conversion_rent_usd,
    official_route_gain_share,
    official_route_open,
    parallel_premium,
    rebalancing_outflow_usd,
    target_foreign_share,
)
from cryptoabm.rules.citizens import (
    adoption_cost_usd,
    adoption_hazard,
    bonus_covers_adoption_cost,
    bonus_spending_usd,
    crypto_payment_probability,
    dropout_probability,
    has_access,
    innovation_rate,
    lasting_use_probability,
    merchant_accepts,
    merchant_net_benefit,
    monthly_saving_usd,
    receipts_holding_gain,
    trust_factor,
)
from cryptoabm.rules.units import MONTHS_PER_YEAR

if TYPE_CHECKING:
    from cryptoabm.agents.bonus_campaign import BonusOffer
    from cryptoabm.model import CryptoEconomy

# decisions every citizen draws for each month, whatever the policy, from the citizens' stream:
# adopt (row 0) and move savings by either route (row 1)
CITIZEN_DECISIONS = 2
ADOPT, MOVE = range(CITIZEN_DECISIONS)
# decisions only wallet holders make: a counter-based draw each month for each holder alone
# (``RandomStreams.keyed_uniforms``), keyed by the month and one of these
PAY, HOLD, DROP_OUT, ROUTE = range(1, 5)
NEVER = -(10**6)  # "month" of an event that has not happened


class Population:
    """The state of every citizen as arrays (index i is citizen i), and the monthly rules."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, network_rng: np.random.Generator,
                 bonus_rng: np.random.Generator):
        people = scenario.population
        n = people.citizens
        self.size = n
        # Each simulated citizen stands for this many adults: shares are unaffected, and
        # every money flow (bonuses, savings, capital flight) is scaled up to the nation.
        self.people_per_citizen = people.people_per_citizen
        income_z = rng.standard_normal(n)  # each citizen's log income, in standard deviations from the median
        self.income_usd_per_month = people.income_median_usd_per_month * np.exp(people.income_log_sd * income_z)
        self.trust = np.clip(people.trust_mean + people.trust_sd * rng.standard_normal(n), 0.0, 1.0)
        # a phone with internet: the better-off more often where incomes and access go together
        self.has_internet = has_access(income_z, rng.random(n), people.internet_access_share,
                                       people.internet_income_correlation)
        self.is_merchant = rng.random(n) < people.merchant_share
        self.merchants = np.flatnonzero(self.is_merchant)  # their indices
        self.complies_with_mandate = self.is_merchant & (rng.random(n) < scenario.merchants.legal_tender_compliance)
        # whether an adopter finds a lasting use for the wallet is decided when they adopt, by who
        # they are and why they adopted (``lasting_use_probability``), against this fixed draw
        self.lasting_use_draw = rng.random(n)
        self.never_adopts = rng.random(n) < scenario.adoption.never_adopter_share
        self.receives_remittances = rng.random(n) < scenario.remittances.recipient_share
        initial_holders = (rng.random(n) < people.initial_holder_share) & ~self.never_adopts
        # where capital controls close the bank route, they close it to the same citizens every
        # month: those whose draw falls below the controls' strictness
        self.bank_route_draw = rng.random(n)
        # what each would gain by keeping crypto receipts rather than converting them (0: converts)
        self.receipts_holding_gain = receipts_holding_gain(self.trust, scenario.merchants,
                                                           scenario.market.price_volatility_annual)
        self.keeps_receipts = self.receipts_holding_gain > 0.0
        self.savings_usd = self.income_usd_per_month * people.savings_months_of_income
        # The traits drawn after the others, so that the draws above are those of earlier versions:
        # bank access (mostly the better-off), each adult's cost of adopting a wallet, and each
        # saver's trust in banks around the country's (the spread of trust in novelty)
        self.is_banked = has_access(income_z, rng.random(n), people.bank_account_share,
                                    people.bank_access_income_correlation)
        mean_income = people.income_median_usd_per_month * float(np.exp(people.income_log_sd**2 / 2.0))
        self.adoption_cost_usd = adoption_cost_usd(mean_income, self.is_banked, people.bank_account_share,
                                                   rng.standard_normal(n), scenario.adoption)
        self.bank_trust = np.clip(scenario.economy.bank_trust + people.trust_sd * rng.standard_normal(n), 0.0, 1.0)
        self.has_lasting_use = initial_holders & (
            self.lasting_use_draw < lasting_use_probability(self.is_banked, False, scenario.adoption))
        self.adopted_for_bonus = np.zeros(n, dtype=bool)  # drawn in by a bonus (would not have adopted that month without it)
        # savings held abroad, USD (what capital flight has moved, at the dollars it delivered)
        self.foreign_assets_usd = np.zeros(n)
        # downloaders by the month they downloaded, until their first anniversary; and whether each
        # downloader was still active a year on (for the retention indicators)
        self.downloaders_by_month: dict[int, np.ndarray] = {}
        self.active_year_on = np.zeros(n, dtype=bool)
        self.year_on_downloaders = 0
        self.year_on_active = 0
        self.bonus_left_usd = np.zeros(n)
        self.bonus_spend_usd_per_month = np.zeros(n)
        self.bonuses_outstanding = False  # anyone with bonus left to spend (skips the spending rule)
        self.ever_downloaded = initial_holders.copy()
        self.has_wallet = initial_holders.copy()
        self.is_active = initial_holders.copy()
        self.accepts_crypto = np.zeros(n, dtype=bool)
        self.paid_in_crypto = np.zeros(n, dtype=bool)
        self.last_paid_month = np.full(n, NEVER, dtype=np.int32)
        # how many citizens last paid in each month (month -> count): the last twelve months'
        # payers are summed from it, without reading every citizen's last payment each month
        self.last_payers_by_month: dict[int, int] = {}
        self.last_sale_month = np.full(self.merchants.size, NEVER, dtype=np.int32)
        # float32 through the adoption hazard: its terms are probabilities and a share (resolution
        # 6e-8, far below any probability in the model); money stays in double precision
        self.trust_multiplier = trust_factor(self.trust, people.trust_mean, scenario.adoption.trust_elasticity).astype(np.float32)
        self.adjacency = adjacency(people.network, n, people.mean_degree, people.rewiring_probability, network_rng)
        self.merchant_contacts = None if self.adjacency is None else self.adjacency[self.merchants]
        self.degree = contact_counts(self.adjacency, n)
        self.contact_weight = contact_weights(self.degree)
        self.active_contacts = None if self.adjacency is None else ActiveContacts(self.adjacency, self.is_active)
        self.saving_usd_per_month = monthly_saving_usd(self.income_usd_per_month, people.saving_rate)  # incomes are fixed
        self.total_saving_usd_per_month = float(self.saving_usd_per_month.sum())
        # One uniform draw per citizen for each decision everyone makes, each month, and one per
        # merchant for the acceptance review (single precision: resolution 6e-8, far below any
        # probability in the model, at half the cost of double precision). Wallet holders'
        # own decisions are drawn for them alone (``holder_draws``).
        self.monthly_draws = np.empty((CITIZEN_DECISIONS, n), dtype=np.float32)
        # each citizen's place in the queue when the bonus budget cannot pay every adopter
        self.bonus_queue = bonus_rng.random(n)
        self.merchant_draws = np.empty(self.merchants.size, dtype=np.float32)
        # this month's outcomes, for the indicators
        self.new_adopters = 0
        self.bonus_driven_adopters = 0
        self.bonuses_paid = 0  # simulated citizens paid the bonus this month (the campaign is told)
        self.capital_flight_usd = 0.0
        self.official_outflow_usd = 0.0  # at the market rate (see rules/capital_flows.py)
        self.official_conversion_rent_usd = 0.0
        self.licensed_platform_outflow_usd = 0.0  # the part of the crypto outflow through licensed platforms
        self.crypto_remittances_usd = 0.0
        self.remittances_usd = 0.0
        self.month = 0

    # -- shares the rest of the model reads --------------------------------------------
    @property
    def ever_downloaded_share(self) -> float:
        """Citizens who have ever downloaded a wallet."""
        return float(np.count_nonzero(self.ever_downloaded)) / self.size

    @property
    def wallet_share(self) -> float:
        """Citizens holding a wallet now (downloaded and not deleted)."""
        return float(np.count_nonzero(self.has_wallet)) / self.size

    @property
    def active_share(self) -> float:
        return float(np.count_nonzero(self.is_active)) / self.size

    @property
    def paid_last_12_months_share(self) -> float:
        """Citizens who paid in crypto at least once in the last twelve months."""
        window = range(self.month - MONTHS_PER_YEAR + 1, self.month + 1)
        return float(sum(self.last_payers_by_month.get(month, 0) for month in window)) / self.size

    @property
    def merchant_accept_share(self) -> float:
        merchants = self.merchants.size
        return float(np.count_nonzero(self.accepts_crypto[self.merchants])) / merchants if merchants else 0.0

    @property
    def merchant_sale_last_12_months_share(self) -> float:
        """Merchants who had at least one crypto sale in the last twelve months."""
        merchants = self.merchants.size
        recent = np.count_nonzero(self.last_sale_month > self.month - MONTHS_PER_YEAR)
        return float(recent) / merchants if merchants else 0.0

    @property
    def receipts_converted_share(self) -> float:
        """Of merchants accepting crypto, the share who convert receipts to cash at once (NaN: none accept)."""
        accepting = self.accepts_crypto[self.merchants]
        if not accepting.any():
            return float("nan")
        return float(np.count_nonzero(accepting & ~self.keeps_receipts[self.merchants])) / float(np.count_nonzero(accepting))

    @property
    def crypto_payment_share(self) -> float:
        """Share of citizens who paid for something in crypto this month."""
        return float(np.count_nonzero(self.paid_in_crypto)) / self.size

    @property
    def downloaders_active_year_on_share(self) -> float:
        """Of the citizens who downloaded a wallet at least a year ago (during the run), the share
        still active twelve months after they downloaded (NaN: nobody yet)."""
        return self.year_on_active / self.year_on_downloaders if self.year_on_downloaders else float("nan")

    @property
    def foreign_asset_share(self) -> float:
        """Households' assets abroad as a share of their savings at home and abroad."""
        abroad = float(self.foreign_assets_usd.sum())
        total = abroad + float(self.savings_usd.sum())
        return abroad / total if total > 0.0 else 0.0

    def national_usd(self, simulated_citizens_usd: float) -> float:
        """A sum of money over the simulated citizens, scaled to the adults they stand for, USD:
        the one place household money flows are scaled up to the nation."""
        return float(simulated_citizens_usd) * self.people_per_citizen

    def household_wealth_usd(self) -> float:
        """Savings plus unspent bonuses of all the adults represented: what the households'
        ledger account should hold, USD."""
        return self.national_usd(self.savings_usd.sum() + self.bonus_left_usd.sum())

    def bonus_eligible(self, offer: BonusOffer) -> np.ndarray:
        """Who may claim the bonus on offer (everyone, or those under its income ceiling)."""
        if offer.eligible_max_income_usd_per_month is None:
            return np.ones(self.size, dtype=bool)
        return self.income_usd_per_month <= offer.eligible_max_income_usd_per_month

    def neighbours_of(self, index: int) -> np.ndarray:
        """Indices of a citizen's contacts, in increasing order (everyone else in a well-mixed population)."""
        if self.adjacency is None:
            return np.delete(np.arange(self.size), index)
        row = self.adjacency
        return np.sort(row.indices[row.indptr[index] : row.indptr[index + 1]])

    # -- the month ------------------------------------------------------------------------
    def active_contact_share(self) -> np.ndarray:
        """Share of each citizen's contacts who are active now, float32; the counts are kept up
        to date from the citizens whose state changed (``ActiveContacts``)."""
        if self.active_contacts is None:
            return active_neighbour_share(None, self.contact_weight, self.is_active)
        return self.active_contacts.update(self.is_active) * self.contact_weight

    def holder_draws(self, model: CryptoEconomy, decision: int, holders: np.ndarray) -> np.ndarray:
        """This month's uniform draw for ``decision`` of each of ``holders`` (indices): the same
        number for a given citizen, month and decision whoever else holds a wallet, so that
        common random numbers hold across policies."""
        return model.streams.keyed_uniforms("citizens", (self.month, decision), holders)

    def step(self, model: CryptoEconomy, offer: BonusOffer) -> None:
        """Apply the monthly rules in order to every citizen at once; ``offer`` is this month's
        bonus offer (``bonuses_paid`` then says how many were paid)."""
        self.month = model.month
        rng = model.streams.citizens
        # The same draws every month, whatever the policy: keeps the random numbers aligned
        # across policies (common random numbers).
        draws = rng.random(dtype=np.float32, out=self.monthly_draws)
        merchant_draws = rng.random(dtype=np.float32, out=self.merchant_draws)
        # a citizen is online this month if they have access and the internet is up: a cut of
        # some days takes that share of the month's chances away
        down = model.internet_down_share
        online = self.has_internet if down == 0.0 else self.has_internet * np.float32(1.0 - down)
        active_contacts = self.active_contact_share()

        new = self.adopt_wallets(model, offer, active_contacts, online, draws[ADOPT])
        self.pay_bonuses(model, offer, new)
        holders = np.flatnonzero(self.has_wallet)  # after this month's adoptions
        active_holders, used = self.use_wallets(model, online, holders)
        self.move_savings_abroad(model, online, draws[MOVE], holders)
        self.receive_remittances(model)
        self.drop_out(model, holders, active_holders, used)
        self.review_acceptance(model, active_contacts, merchant_draws)
        self.save_income(model)
        self.record_year_on_retention()

    def adopt_wallets(self, model: CryptoEconomy, offer: BonusOffer, active_contacts: np.ndarray, online: np.ndarray,
                      draw: np.ndarray) -> np.ndarray:
        """Citizens who have never downloaded a wallet adopt with the Bass hazard (never-adopters
        never do); adopters start active. A bonus on offer multiplies the unprompted hazard of
        those who may claim it and whose cost of adopting it covers, by a pull that fades with
        the campaign's age; an adopter whose draw the hazard without the bonus would not have
        reached is bonus-driven. Savers who want to move money out while capital controls close
        the bank route also seek a wallet (damped, like all unprompted adoption, by information
        control). Whether each adopter finds a lasting use is decided now, by their bank access
        and why they adopted."""
        adoption = model.config.adoption
        policy = model.state.policy
        flight_demand = self.wallet_demand_for_flight(model) * (1.0 - policy.information_control)
        without = innovation_rate(adoption, 1.0, policy.information_control) + flight_demand
        hazard = adoption_hazard(without, adoption.imitation_q, active_contacts, self.trust_multiplier, online)
        hazard_without = hazard
        if offer.pull > 1.0:
            # only those who can claim the bonus, and whose cost of adopting it covers, are drawn in by it
            drawn_in = self.bonus_eligible(offer) & bonus_covers_adoption_cost(offer.amount_usd, self.adoption_cost_usd)
            pulled = innovation_rate(adoption, offer.pull, policy.information_control) + flight_demand
            hazard = np.where(drawn_in, adoption_hazard(pulled, adoption.imitation_q, active_contacts,
                                                        self.trust_multiplier, online), hazard_without)
        new = ~self.ever_downloaded & ~self.never_adopts & (draw < hazard)
        for_bonus = new & (draw >= hazard_without)
        self.ever_downloaded |= new
        self.has_wallet |= new
        self.is_active |= new
        self.adopted_for_bonus |= for_bonus
        adopters = np.flatnonzero(new)
        self.has_lasting_use[adopters] = self.lasting_use_draw[adopters] < lasting_use_probability(
            self.is_banked[adopters], for_bonus[adopters], adoption)
        self.downloaders_by_month[self.month] = adopters
        self.new_adopters = int(adopters.size)
        self.bonus_driven_adopters = int(np.count_nonzero(for_bonus))
        return new

    def pay_bonuses(self, model: CryptoEconomy, offer: BonusOffer, new: np.ndarray) -> None:
        """Eligible new adopters receive the bonus on offer; when the campaign cannot pay every
        one, those first in the bonus queue (a random order fixed at the start) are paid. Sets
        ``bonuses_paid`` (the campaign books the outlay)."""
        self.bonuses_paid = 0
        if not offer.on_offer:
            return
        candidates = np.flatnonzero(new & self.bonus_eligible(offer))
        if candidates.size > offer.affordable:
            first = np.argpartition(self.bonus_queue[candidates], offer.affordable - 1)[:offer.affordable]
            candidates = np.sort(candidates[first])
        self.bonus_left_usd[candidates] += offer.amount_usd
        self.bonuses_outstanding = self.bonuses_outstanding or candidates.size > 0
        self.bonus_spend_usd_per_month[candidates] = offer.amount_usd / model.config.adoption.bonus_spend_months
        self.bonuses_paid = int(candidates.size)

    def use_wallets(self, model: CryptoEconomy, online: np.ndarray, holders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Active holders pay in crypto when allowed and a merchant accepts, or find holding
        worthwhile; the bonus is spent down either way (paid out or cashed in). A merchant
        with a paying contact has made a crypto sale. Returns the active holders (a mask over
        ``holders``) and whether each of them used the wallet (a mask over the active ones)."""
        adoption = model.config.adoption
        policy = model.state.policy
        p_pay = crypto_payment_probability(policy.payment_regime, self.merchant_accept_share, adoption)
        active_holders = self.is_active[holders]
        users = holders[active_holders]
        online_users = online[users] if isinstance(online, np.ndarray) else online
        pays = self.holder_draws(model, PAY, users) < p_pay * online_users
        payers = users[pays]
        self.paid_in_crypto = np.zeros(self.size, dtype=bool)
        self.paid_in_crypto[payers] = True
        self.record_last_payments(payers)
        self.record_merchant_sales()
        holds = self.holder_draws(model, HOLD, users) < adoption.store_of_value_share
        if self.bonuses_outstanding:
            spent = bonus_spending_usd(self.bonus_left_usd, self.bonus_spend_usd_per_month) * self.is_active
            self.bonus_left_usd -= spent
            model.ledger.transfer("household_spending", HOUSEHOLDS, DOMESTIC_ECONOMY,
                                  self.national_usd(spent.sum()))
            self.bonuses_outstanding = bool(self.bonus_left_usd.any())
        return active_holders, pays | holds

    def record_last_payments(self, payers: np.ndarray) -> None:
        """This month is now the last month each of ``payers`` paid in crypto."""
        earlier, counts = np.unique(self.last_paid_month[payers], return_counts=True)
        for month, count in zip(earlier.tolist(), counts.tolist(), strict=True):
            if month != NEVER:
                self.last_payers_by_month[month] -= count
        self.last_payers_by_month[self.month] = self.last_payers_by_month.get(self.month, 0) + payers.size
        self.last_paid_month[payers] = self.month

    def record_merchant_sales(self) -> None:
        """Accepting merchants with at least one contact who paid in crypto this month made a sale."""
        if not self.paid_in_crypto.any() or not self.merchants.size:
            return
        if self.merchant_contacts is None:
            paying_contacts = np.full(self.merchants.size, np.count_nonzero(self.paid_in_crypto))
        else:
            paying_contacts = self.merchant_contacts @ self.paid_in_crypto.astype(np.float32)
        sold = self.accepts_crypto[self.merchants] & (paying_contacts > 0)
        self.last_sale_month[sold] = self.month

    def flight_targets(self, model: CryptoEconomy, converts_at_official_rate: np.ndarray,
                       route_gain_share: np.ndarray | float, who: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Target foreign share of wealth of the citizens ``who``, given whether each converts at
        the official rate and the one-off gain (negative: cost) of their route."""
        economy, flight = model.config.economy, model.config.capital_flight
        loss = expected_local_loss_annual(economy, flight, converts_at_official_rate, self.bank_trust[who])
        wealth = self.savings_usd[who] + self.foreign_assets_usd[who]
        return target_foreign_share(net_gain_from_foreign_assets_annual(loss, route_gain_share, wealth, flight), flight)

    def bank_route_closed(self, model: CryptoEconomy) -> np.ndarray | bool:
        """Whether the bank route abroad is closed to each citizen: capital controls bar them
        (``bank_route_draw`` below ``policy.capital_controls``), or the central bank allocates
        households no dollars at the official rate (``official_route_open``), closing it to all."""
        if not official_route_open(model.config.economy, model.config.capital_flight):
            return True
        return self.bank_route_draw < model.state.policy.capital_controls

    def wallet_demand_for_flight(self, model: CryptoEconomy) -> np.ndarray | float:
        """Monthly chance that a citizen without a wallet gets one to move money out: the
        rebalancing chance, for savers to whom the bank route is closed (by capital controls or
        for want of an official allocation) and whose target through crypto is above what they
        hold abroad (0 for everyone else)."""
        policy, flight = model.state.policy, model.config.capital_flight
        closed_route = self.bank_route_closed(model)
        if not np.any(closed_route):
            return 0.0
        closed = np.flatnonzero(closed_route & ~self.has_wallet)
        if not closed.size:
            return 0.0
        target = self.flight_targets(model, np.zeros(closed.size, dtype=bool),
                                     -crypto_route_cost_share(flight, model.state.capacity.crypto_flight_enforcement), closed)
        wealth = self.savings_usd[closed] + self.foreign_assets_usd[closed]
        wants = target * wealth > self.foreign_assets_usd[closed]
        demand = np.zeros(self.size)
        demand[closed[wants]] = flight.adjustment_per_month
        return demand

    def move_savings_abroad(self, model: CryptoEconomy, online: np.ndarray, move_draw: np.ndarray,
                            holders: np.ndarray) -> None:
        """Savers rebalance toward their target foreign share (``rules/capital_flows.py``): a
        saver rebalances this month when their draw is below ``adjustment_per_month`` and moves
        the gap between their target and what they hold abroad. Capital controls close the bank
        route to a share of them (the same citizens every month); those it is open to convert
        at the official rate and earn its rent, within the central bank's dollar allocation
        (rationed pro rata when requests exceed it; with no allocation the route is closed to
        all). Only a wallet holder who is online can use the
        crypto route, whose cost rises with the enforcement against it; a holder with both
        routes open picks one by a logit in the cost gap (drawn for holders alone). Moving money
        through a wallet does not make it an active wallet: it is not use in the sense of
        payments or holding. Official outflows are stated at the market rate; the dollars they
        deliver abroad include the conversion rent."""
        policy, economy = model.state.policy, model.config.economy
        flight = channels_under_policy(model.config.capital_flight, policy.licensed_platform_pull)
        self.capital_flight_usd = self.official_outflow_usd = self.licensed_platform_outflow_usd = 0.0
        self.official_conversion_rent_usd = 0.0
        rebalancing = np.flatnonzero(move_draw < flight.adjustment_per_month)
        if not rebalancing.size:
            return
        crypto_cost = crypto_route_cost_share(flight, model.state.capacity.crypto_flight_enforcement)
        official_gain = official_route_gain_share(economy, flight)
        bank_open = ~np.broadcast_to(self.bank_route_closed(model), (self.size,))[rebalancing]
        crypto_open = self.has_wallet[rebalancing] & (
            move_draw[rebalancing] < flight.adjustment_per_month * (online[rebalancing] if isinstance(online, np.ndarray) else online))
        # holders with both routes open take crypto when its cost beats the official route's net gain (logit)
        both = np.flatnonzero(bank_open & crypto_open)
        prefers_crypto = np.zeros(rebalancing.size, dtype=bool)
        if both.size:
            share = crypto_route_share(flight, crypto_cost + official_gain)
            prefers_crypto[both] = self.holder_draws(model, ROUTE, rebalancing[both]) < share
        by_crypto_mask = crypto_open & (~bank_open | prefers_crypto)
        by_bank_mask = bank_open & ~by_crypto_mask
        by_crypto, by_bank = rebalancing[by_crypto_mask], rebalancing[by_bank_mask]
        crypto_wanted = rebalancing_outflow_usd(
            self.flight_targets(model, np.zeros(by_crypto.size, dtype=bool), -crypto_cost, by_crypto),
            self.savings_usd[by_crypto], self.foreign_assets_usd[by_crypto])
        bank_amounts = rebalancing_outflow_usd(
            self.flight_targets(model, np.ones(by_bank.size, dtype=bool), official_gain, by_bank),
            self.savings_usd[by_bank], self.foreign_assets_usd[by_bank])
        bank_amounts *= official_allocation_served_share(
            self.national_usd(bank_amounts.sum()),
            official_allocation_usd_per_month(economy, flight, self.size * self.people_per_citizen), economy)
        self.licensed_platform_outflow_usd = self.national_usd(licensed_outflow_usd(
            crypto_wanted, policy.crypto_outflow_limit_usd_per_month, flight).sum())
        crypto_amounts = crypto_outflow_usd(crypto_wanted, policy.crypto_outflow_limit_usd_per_month, flight)
        self.savings_usd[by_crypto] -= crypto_amounts
        self.savings_usd[by_bank] -= bank_amounts
        self.foreign_assets_usd[by_crypto] += crypto_amounts
        self.foreign_assets_usd[by_bank] += bank_amounts * (1.0 + parallel_premium(economy))
        self.capital_flight_usd = self.national_usd(crypto_amounts.sum())
        self.official_outflow_usd = self.national_usd(bank_amounts.sum())
        self.official_conversion_rent_usd = official_conversion_rent_usd(self.official_outflow_usd, economy)
        model.ledger.transfer("capital_flight", HOUSEHOLDS, REST_OF_WORLD, self.capital_flight_usd)
        model.ledger.transfer("official_outflow", HOUSEHOLDS, REST_OF_WORLD, self.official_outflow_usd)

    def receive_remittances(self, model: CryptoEconomy) -> None:
        """This month's remittances arrive (and are spent at home); the crypto share depends on
        how many recipients hold a wallet and on the fee gap."""
        remittances = model.config.remittances
        self.remittances_usd = remittances.inflow_usd_per_year / MONTHS_PER_YEAR
        recipients = np.count_nonzero(self.receives_remittances)
        with_wallet = np.count_nonzero(self.receives_remittances & self.has_wallet) / recipients if recipients else 0.0
        self.crypto_remittances_usd = self.remittances_usd * crypto_remittance_share(remittances, with_wallet)
        model.ledger.transfer("crypto_remittances", REST_OF_WORLD, DOMESTIC_ECONOMY, self.crypto_remittances_usd)
        model.ledger.transfer("traditional_remittances", REST_OF_WORLD, DOMESTIC_ECONOMY,
                              self.remittances_usd - self.crypto_remittances_usd)

    def drop_out(self, model: CryptoEconomy, holders: np.ndarray, active_holders: np.ndarray, used: np.ndarray) -> None:
        """Active holders with no bonus left and no use this month stop using the wallet (lasting
        users only slowly); dormant holders may delete it. One draw serves both: a citizen is
        active or dormant, never both. ``active_holders`` masks ``holders``; ``used`` masks
        the active ones."""
        adoption = model.config.adoption
        draw = self.holder_draws(model, DROP_OUT, holders)
        used_by_holder = np.zeros(holders.size, dtype=bool)
        used_by_holder[active_holders] = used
        p_drop = dropout_probability(self.bonus_left_usd[holders], used_by_holder, self.has_lasting_use[holders], adoption)
        self.is_active[holders[active_holders & (draw < p_drop)]] = False
        self.has_wallet[holders[~active_holders & (draw < adoption.dormant_abandon_hazard)]] = False

    def review_acceptance(self, model: CryptoEconomy, active_contacts: np.ndarray, draw: np.ndarray) -> None:
        """Merchants weigh their active customers against fees, staff time and (if they keep the
        coins) volatility. A ban or a legal-tender mandate takes effect at once; otherwise
        merchants reconsider now and then (``draw``: one uniform number per merchant)."""
        merchants_cfg = model.config.merchants
        regime = model.state.policy.payment_regime
        merchants = self.merchants
        net = merchant_net_benefit(active_contacts[merchants], merchants_cfg, self.receipts_holding_gain[merchants])
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
        model.ledger.transfer("household_saving", DOMESTIC_ECONOMY, HOUSEHOLDS,
                              self.national_usd(self.total_saving_usd_per_month))


    def record_year_on_retention(self) -> None:
        """The citizens who downloaded twelve months ago reach their first anniversary: count
        them, and those of them still active."""
        cohort = self.downloaders_by_month.pop(self.month - MONTHS_PER_YEAR, None)
        if cohort is None or not cohort.size:
            return
        still = self.is_active[cohort]
        self.active_year_on[cohort] = still
        self.year_on_downloaders += int(cohort.size)
        self.year_on_active += int(np.count_nonzero(still))


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
