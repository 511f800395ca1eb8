"""The demo union: the trade union of the source article, Shaanxi Coal's New Energy company
(陕煤新型能源公司工会, its account published 2021-08-30), as its offices would enter it
through the services' RPC. ``organization`` loads the company union, its seven grassroots
unions with their union groups, a unit with no union yet, the members and officers, terms,
cadre training, field visits, meetings and the year's regulations; ``deeds`` the "552"
programme of practical deeds (34 party-committee and 74 grassroots items) with the year
replayed to the article's date; ``activities`` the three all-staff campaigns (health,
fitness, reading) with the article's figures; ``accounts`` the gateway's demo logins, one
person per role (administrator, a grassroots chair, a member, an auditor) with the demo
password. Load organization first: the others reuse its units and members by their codes.
Loading twice changes nothing; ``gonghui up`` and ``gonghui demo`` load all four."""
