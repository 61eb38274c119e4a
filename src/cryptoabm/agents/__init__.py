"""The five kinds of agent, one module each."""

from cryptoabm.agents.citizen import Citizen, Population
from cryptoabm.agents.grid_operator import GridOperator
from cryptoabm.agents.investor import ForeignInvestor
from cryptoabm.agents.miner import Miner
from cryptoabm.agents.state import State

__all__ = ["Citizen", "ForeignInvestor", "GridOperator", "Miner", "Population", "State"]
