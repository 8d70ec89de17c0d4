export const config = { apiBaseUrl: "http://localhost:8000" };
