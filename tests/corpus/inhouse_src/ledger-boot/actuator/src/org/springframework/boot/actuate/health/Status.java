package org.springframework.boot.actuate.health;

/**
 * A tiny stand-in for Spring Boot Actuator's health Status (not Spring's code): just enough
 * for the ledger service to render its health endpoint as Actuator does.
 */
public final class Status {
    public static final Status UP = new Status("UP");
    public static final Status DOWN = new Status("DOWN");

    private final String code;

    private Status(String code) {
        this.code = code;
    }

    public String getCode() {
        return code;
    }

    /** The body of GET /actuator/health without details: {"status":"UP"}. */
    public String toJson() {
        return "{\"status\":\"" + code + "\"}";
    }

    @Override
    public String toString() {
        return code;
    }
}
