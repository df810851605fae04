//! `/admin/users`: the users, their roles; add, change role, reset password, remove.

use leptos::prelude::*;

use super::{done, once, Outcome};
use crate::api::{AddUser, ListUsers, RemoveUser, ResetPassword, SetUserRole};
use crate::codec::page_data;

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let role = ServerAction::<SetUserRole>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let users = page_data(|| ListUsers {}, move || add.version().get() + role.version().get() + remove.version().get());
    view! {
        <h1>"Users"</h1>
        <Outcome value=add.value() shown=shown_added/>
        <Outcome value=reset.value() shown=shown_new_password/>
        <Outcome value=role.value() shown=done/>
        <Outcome value=remove.value() shown=done/>
        <Suspense fallback=|| view! { <p class="empty">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" id="users">
                            <thead><tr><th>"Name"</th><th>"Role"</th><th>"Since"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|u| {
                                let (for_role, for_reset, for_remove) = (u.name.clone(), u.name.clone(), u.name.clone());
                                view! {
                                <tr data-user=u.name.clone()>
                                    <td>{u.name.clone()}</td>
                                    <td>
                                        <ActionForm action=role attr:class="inline">
                                            <input type="hidden" name="name" value=for_role/>
                                            <RoleSelect selected=u.role.clone()/>
                                            <button type="submit">"Set"</button>
                                        </ActionForm>
                                    </td>
                                    <td>{crate::components::status::short_time(&u.created_at)}</td>
                                    <td>
                                        <ActionForm action=reset attr:class="inline">
                                            <input type="hidden" name="name" value=for_reset/>
                                            <button type="submit">"Reset password"</button>
                                        </ActionForm>
                                        <ActionForm action=remove attr:class="inline">
                                            <input type="hidden" name="name" value=for_remove/>
                                            <button type="submit" class="danger">"Remove"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }}).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        <h2>"Add a user"</h2>
        <ActionForm action=add attr:class="admin-form" attr:id="add-user">
            <div class="field"><label>"Name"</label><input type="text" name="name" required/></div>
            <div class="field"><label>"Role"</label><RoleSelect selected="viewer".into()/></div>
            <div class="field">
                <label>"Password"</label>
                <input type="password" name="password" placeholder="leave empty to generate one" autocomplete="new-password"/>
            </div>
            <button type="submit">"Add"</button>
        </ActionForm>
    }
}

#[component]
fn RoleSelect(selected: String) -> impl IntoView {
    view! {
        <select name="role">
            {["admin", "operator", "viewer"].map(|role| view! {
                <option value=role selected=selected == role>{role}</option>
            }).collect_view()}
        </select>
    }
}

fn shown_added(password: Option<String>) -> AnyView {
    match password {
        Some(password) => once("Password", password),
        None => view! { <p class="muted">"User added."</p> }.into_any(),
    }
}

fn shown_new_password(password: String) -> AnyView {
    once("New password", password)
}
