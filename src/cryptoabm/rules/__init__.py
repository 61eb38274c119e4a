"""The model's economics: small, pure, documented functions.

Agents call these rules; they never re-derive them. Each rule's docstring gives its
economic meaning and units, and every parameter comes from the scenario config.

- :mod:`.mining`     hashprice, miners' margins, surcharges, expansion and exit
- :mod:`.grid`       power demand, dispatch and the reserve margin
- :mod:`.investment` foreign investors' expected return and policy-risk premium
- :mod:`.state`      the state's licensing and adaptive rules
- :mod:`.citizens`   wallet adoption, use, drop-out, merchant acceptance, capital flight
"""
