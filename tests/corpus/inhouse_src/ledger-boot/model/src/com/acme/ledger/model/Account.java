package com.acme.ledger.model;

import java.math.BigDecimal;
import java.util.List;

/** A ledger account, as the API returns it. */
public final class Account {
    private final String id;
    private final String owner;
    private final String currency;
    private final BigDecimal balance;

    public Account(String id, String owner, String currency, String balance) {
        this.id = id;
        this.owner = owner;
        this.currency = currency;
        this.balance = new BigDecimal(balance);
    }

    public String getId() {
        return id;
    }

    public String toJson() {
        return "{\"id\":\"" + id + "\",\"owner\":\"" + owner + "\",\"currency\":\"" + currency
                + "\",\"balance\":" + balance.toPlainString() + "}";
    }

    public static String toJson(List<Account> accounts) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < accounts.size(); i++) {
            out.append(i == 0 ? "" : ",").append(accounts.get(i).toJson());
        }
        return out.append("]").toString();
    }
}
