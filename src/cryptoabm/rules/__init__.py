"""The model's economics: small, pure, documented functions.

Agents call these rules; they never re-derive them. Each rule's docstring gives its
economic meaning and units, and every parameter comes from the scenario config.

- :mod:`.mining`     hashprice, miners' margins, surcharges, expansion, salvage and exit, licensed or grey
- :mod:`.world_mining` the rest of the world's fleet: merit order, rig orders, exits
- :mod:`.grid`       power demand, dispatch and the reserve margin
- :mod:`.investment` foreign investors' expected return and policy-risk premium
- :mod:`.state`      the state's licensing and adaptive rules
- :mod:`.citizens`   wallet adoption and bonus campaigns, use, drop-out, merchant acceptance
- :mod:`.capital_flows` motives to move savings abroad, the route taken, remittances
"""
