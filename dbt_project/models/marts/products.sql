with published as (
    {{ published_rows('int_products_published') }}
),

final as (
    select
        product,
        kind,
        family,
        reader,
        release,
        experiment,
        is_ensemble,
        description,
        n_members,
        members,
        first_month,
        last_month,
        native_dx_deg,
        native_dy_deg,
        n_grids
    from published
)

select * from final
