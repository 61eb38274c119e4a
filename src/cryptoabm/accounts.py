"""The month's national accounts, read from the books: the balance of payments (BPM6 layout),
the fiscal account of the state and its utility, and the national gain from mining.

Everything here is built from the double-entry ledger (``ledger.py``), whose cross-border
flows (between a resident account and ``rest_of_world``, ``bitcoin_network`` or a foreign
investor) are the transactions of the balance of payments. Each kind of cross-border flow is
classified once, into the current account (goods, primary income, secondary income) or the
financial account; the net money that crossed the border, whatever its kind, is what residents
kept of it (coins held and foreign exchange). So the financial account equals the current
account, and errors and omissions are zero, exactly when every kind of cross-border flow is
classified: an unclassified kind shows up as errors and omissions (a test checks it is zero).

The model's balance of payments is the crypto- and mining-related part of the country's, set
against the same economy without crypto: energy that miners burn would otherwise be exported at
its shadow value (``grid.energy_shadow_value_usd_per_mwh``), so goods carry that export forgone
and the financial account the reserve assets it would have brought.

Exchange rates: coins, rigs, FDI, profits, tariffs, fees and taxes are dollars as paid (licensed
firms settle at the official rate); households' savings, flight, remittances and bonuses are
stated at the market rate at which households value their money (see docs/ODD.md 7.11).

Signs: current-account items are credits (+) and debits (-); the financial account is net
lending, net acquisition of foreign assets minus net incurrence of liabilities (+: the country
lends to the rest of the world).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cryptoabm.ledger import FOREIGN_OWNED_MINING_SECTOR, MINING_SECTORS, Ledger

# Cross-border ledger kinds by item of the balance of payments (their sign is their direction)
GOODS_KINDS = ("mining_revenue", "rig_exports", "rig_imports")  # coins mined (at the world price) and rigs
PRIMARY_INCOME_KINDS = ("profit_repatriation",)  # foreign owners' profits sent home (farms and zone ventures)
SECONDARY_INCOME_KINDS = ("crypto_remittances", "traditional_remittances", "grey_mining_fine")  # remittances in
# total (a remittance that switches to crypto is not a new inflow), and fines paid from abroad
HOUSEHOLD_ASSET_KINDS = ("capital_flight", "official_outflow")  # savings moved abroad, by route: foreign assets acquired
FDI_LIABILITY_KINDS = ("fdi", "zone_fdi", "divestment")  # direct investment in, less divestment: liabilities incurred
CLASSIFIED_KINDS = GOODS_KINDS + PRIMARY_INCOME_KINDS + SECONDARY_INCOME_KINDS + HOUSEHOLD_ASSET_KINDS + FDI_LIABILITY_KINDS

# the state's revenue from mining; the special zone's ventures pay `zone_venture_tax`, counted apart
STATE_REVENUE_KINDS = ("surcharge", "licence_fee", "profit_tax", "seizure", "grey_mining_fine")
MINING_OWNER_KINDS = ("fdi", "zone_fdi", "profit_repatriation", "divestment")  # between farms and their foreign owners


@dataclass(frozen=True)
class BalanceOfPayments:
    """One month's crypto- and mining-related balance of payments, USD."""

    goods_usd: float  # coins mined + rigs sold abroad - rigs bought abroad - energy exports forgone
    primary_income_usd: float  # - profits repatriated
    secondary_income_usd: float  # remittances received (all channels) + fines paid from abroad
    household_foreign_assets_usd: float  # savings moved abroad, through crypto and through banks
    fdi_net_liabilities_usd: float  # FDI received less divestment
    assets_kept_usd: float  # net money over the border into residents' hands: coins held and foreign exchange
    energy_exports_forgone_usd: float  # energy miners burned, at its shadow value (in goods and in reserves forgone)

    @property
    def current_account_usd(self) -> float:
        return self.goods_usd + self.primary_income_usd + self.secondary_income_usd

    @property
    def financial_account_usd(self) -> float:
        """Net lending: foreign assets acquired (households', and the coins and foreign exchange
        kept, less the reserves the forgone energy exports would have brought) less FDI liabilities."""
        return (self.household_foreign_assets_usd + self.assets_kept_usd - self.energy_exports_forgone_usd
                - self.fdi_net_liabilities_usd)

    @property
    def errors_and_omissions_usd(self) -> float:
        """Financial account less current account (BPM6; no capital account here): zero when
        every cross-border flow is classified."""
        return self.financial_account_usd - self.current_account_usd


def balance_of_payments(ledger: Ledger, energy_shadow_cost_usd: float) -> BalanceOfPayments:
    """This month's balance of payments from the ledger's cross-border flows."""
    cross = ledger.cross_border
    return BalanceOfPayments(
        goods_usd=math.fsum(cross(kind) for kind in GOODS_KINDS) - energy_shadow_cost_usd,
        primary_income_usd=math.fsum(cross(kind) for kind in PRIMARY_INCOME_KINDS),
        secondary_income_usd=math.fsum(cross(kind) for kind in SECONDARY_INCOME_KINDS),
        household_foreign_assets_usd=-math.fsum(cross(kind) for kind in HOUSEHOLD_ASSET_KINDS),
        fdi_net_liabilities_usd=math.fsum(cross(kind) for kind in FDI_LIABILITY_KINDS),
        assets_kept_usd=math.fsum(ledger.month_cross_border.values()),
        energy_exports_forgone_usd=energy_shadow_cost_usd,
    )


def unclassified_cross_border_kinds(ledger: Ledger) -> list[str]:
    """Kinds of this month's cross-border flows that the balance of payments does not classify."""
    return sorted({kind for kind, _ in ledger.month_cross_border} - set(CLASSIFIED_KINDS))


@dataclass(frozen=True)
class FiscalAccount:
    """One month's net take of the state and its utility from crypto, USD."""

    state_revenue_usd: float  # from mining: surcharges, licence fees, farms' profit tax, seizures and fines
    zone_venture_tax_usd: float  # profit tax on the special zone's ventures (not mining: exchanges, payment firms)
    utility_tariff_receipts_usd: float  # what miners paid the state utility for power, less bills written off
    energy_shadow_cost_usd: float  # the energy miners used, at its shadow value
    bonus_outlay_usd: float  # wallet bonuses paid
    enforcement_cost_usd: float  # the cost of enforcement against grey mining

    @property
    def fiscal_net_usd(self) -> float:
        return (self.state_revenue_usd + self.zone_venture_tax_usd + self.utility_tariff_receipts_usd
                - self.energy_shadow_cost_usd - self.bonus_outlay_usd - self.enforcement_cost_usd)


def fiscal_account(ledger: Ledger, energy_shadow_cost_usd: float) -> FiscalAccount:
    """This month's fiscal account from the ledger's flows. The grid operator is the state's
    utility in every preset (an assumption stated in each country file's [grid])."""
    flow = ledger.flow
    return FiscalAccount(
        state_revenue_usd=math.fsum(flow(kind) for kind in STATE_REVENUE_KINDS),
        zone_venture_tax_usd=flow("zone_venture_tax"),
        utility_tariff_receipts_usd=flow("power_sales") - flow("bad_debt"),
        energy_shadow_cost_usd=energy_shadow_cost_usd,
        bonus_outlay_usd=flow("bonus"),
        enforcement_cost_usd=flow("enforcement_costs"),
    )


@dataclass(frozen=True)
class NationalGainFromMining:
    """What mining leaves in the country in a month, USD.

    The farms' net receipts from abroad (coins at the world price, rigs sold less rigs bought,
    money from foreign owners less what they took home), less the cash that piled up in
    foreign-owned farms (it belongs to their owners), plus fines foreign owners paid, less the
    energy burned at its shadow value. Payments between residents (tariffs, taxes, wages,
    suppliers) move value within the country and add nothing, except the energy, counted at
    what it could have earned. For a foreign-owned farm this is what it paid residents less the
    energy; for a resident-owned one, coins less rigs less energy. Rigs still standing at the
    horizon are not valued (their purchase was charged when it was made).
    """

    coins_usd: float  # coins mined, at the world price, whether sold abroad, sold at home or held
    rigs_usd: float  # used rigs sold abroad less rigs bought abroad
    foreign_owners_usd: float  # FDI into farms less profits repatriated and capital divested by their owners
    foreign_owned_cash_change_usd: float  # cash added to foreign-owned farms' accounts (theirs, not the country's)
    fines_from_abroad_usd: float  # fines foreign owners paid for grey farms
    energy_shadow_cost_usd: float  # the energy miners used, at its shadow value

    @property
    def total_usd(self) -> float:
        return (self.coins_usd + self.rigs_usd + self.foreign_owners_usd - self.foreign_owned_cash_change_usd
                + self.fines_from_abroad_usd - self.energy_shadow_cost_usd)


def national_gain_from_mining(ledger: Ledger, energy_shadow_cost_usd: float) -> NationalGainFromMining:
    """This month's national gain from mining from the ledger's cross-border flows of farms."""

    def farms(kind: str) -> float:
        return math.fsum(ledger.cross_border(kind, sector) for sector in MINING_SECTORS)

    return NationalGainFromMining(
        coins_usd=farms("mining_revenue"),
        rigs_usd=farms("rig_exports") + farms("rig_imports"),
        foreign_owners_usd=math.fsum(farms(kind) for kind in MINING_OWNER_KINDS),
        foreign_owned_cash_change_usd=ledger.sector_balance_change(FOREIGN_OWNED_MINING_SECTOR),
        fines_from_abroad_usd=ledger.cross_border("grey_mining_fine"),
        energy_shadow_cost_usd=energy_shadow_cost_usd,
    )


def mining_cross_border_usd(ledger: Ledger) -> float:
    """The farms' net receipts from abroad this month, all kinds together, USD (what the
    national gain's coins, rigs and foreign owners' parts must add up to)."""
    return math.fsum(amount for (_, sector), amount in ledger.month_cross_border.items() if sector in MINING_SECTORS)
