"""In a well-mixed population with no drop-out and identical citizens, wallet adoption
follows the discrete Bass curve F(t+1) = F(t) + (p + q F(t)) (1 - F(t))."""

import numpy as np

from cryptoabm.model import CryptoEconomy
from tests.conftest import scenario

P, Q, MONTHS, CITIZENS = 0.01, 0.35, 36, 20_000


def bass_curve(p: float, q: float, months: int) -> np.ndarray:
    adopted, path = 0.0, []
    for _ in range(months):
        adopted += (p + q * adopted) * (1.0 - adopted)
        path.append(adopted)
    return np.array(path)


def well_mixed_adoption(seed: int) -> np.ndarray:
    homogeneous = scenario(**{
        "months": MONTHS, "population.citizens": CITIZENS, "population.network": "complete",
        "population.internet_access_share": 1.0, "population.trust_sd": 0.0,
        "adoption.innovation_p": P, "adoption.imitation_q": Q, "adoption.dropout_hazard": 0.0,
        "mining.initial_farms": 0, "investors.count": 0,
    })
    return CryptoEconomy(homogeneous, seed=seed).run()["wallet_share"].to_numpy()


def test_well_mixed_adoption_follows_the_discrete_bass_curve():
    expected = bass_curve(P, Q, MONTHS)
    runs = np.array([well_mixed_adoption(seed) for seed in range(1, 11)])
    # A single run's share wanders about 0.011 (one SD) from the curve on its steep part,
    # since early luck compounds; ten runs average to within ~0.004 (one SD) of it. A
    # modelling slip (imitating wallets instead of active users, a month's lag) moves it by 0.05+.
    assert np.abs(runs - expected).max() < 0.05
    assert np.abs(runs.mean(axis=0) - expected).max() < 0.012
    # and it is the S-curve, not a straight line: the steepest month is in the middle
    steepest = int(np.argmax(np.diff(runs.mean(axis=0))))
    assert 3 < steepest < MONTHS - 3


def test_imitation_spreads_adoption_along_the_network():
    # Without imitation, contacts do not matter; with it, adoption runs ahead (by about 0.12 of
    # the population here; 5,000 citizens keep the noise on the gap near 0.01).
    common = {"population.internet_access_share": 1.0, "adoption.innovation_p": 0.01, "months": 24,
              "population.citizens": 5_000}
    alone = CryptoEconomy(scenario(**common, **{"adoption.imitation_q": 0.0}), seed=1).run()
    social = CryptoEconomy(scenario(**common, **{"adoption.imitation_q": 0.5}), seed=1).run()
    assert social["ever_downloaded_share"].iloc[-1] > alone["ever_downloaded_share"].iloc[-1] + 0.06
